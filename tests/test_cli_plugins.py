"""The plugin commands: list, info, registry, install (resolution), doctor; and a torch-free `ganzoo list`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ganzoo.cli import main
import ganzoo.diagnostics
from ganzoo.install import InstallError, install_command_line

REPO = Path(__file__).resolve().parents[1]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) in (0, 1)
    return json.loads(capsys.readouterr().out)


def test_list_json_has_the_documented_fields(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {row["name"]: row for row in run_json(capsys, "list", "--json")}
    dcgan = rows["dcgan"]
    assert {"name", "plugin", "version", "task", "status", "error"} <= set(dcgan)
    assert (dcgan["plugin"], dcgan["task"], dcgan["status"], dcgan["error"]) == ("ganzoo-plugin-dcgan", "unconditional", "ok", "")
    assert rows["wgan-gp"]["plugin"] == "ganzoo-plugin-wgan-gp"


def test_list_filters_by_pattern_and_task(capsys: pytest.CaptureFixture[str]) -> None:
    assert [row["name"] for row in run_json(capsys, "list", "--json", "--kind", "model", "wgan*")] == ["wgan-gp"]
    # the wgan-gp plugin also registers a loss of that name: listed as a row of its own kind
    assert [(row["name"], row["kind"]) for row in run_json(capsys, "list", "--json", "wgan*")] == [
        ("wgan-gp", "model"), ("wgan-gp", "loss")]
    assert run_json(capsys, "list", "--json", "--task", "paired-image-to-image", "dcgan") == []
    assert main(["list", "dc*"]) == 0
    out = capsys.readouterr().out
    assert "dcgan" in out and "wgan-gp" not in out and "STATUS" in out


def test_info_shows_metadata_defaults_and_schema(capsys: pytest.CaptureFixture[str]) -> None:
    info = run_json(capsys, "info", "wgan-gp", "--json")
    assert info["paper"].startswith("Gulrajani") and info["plugin"] == "ganzoo-plugin-wgan-gp"
    assert info["defaults"]["train"]["n_critic"] == 5 and info["defaults"]["model"]["critic_norm"] == "none"
    assert set(info["defaults"]) == {"model", "train", "data", "sample"}
    assert "critic_norm" in info["schema"]["model"]["properties"] and "steps" in info["schema"]["train"]["properties"]
    assert "ganzoo_build_discriminator" in info["hooks"]
    assert main(["info", "dcgan"]) == 0
    text = capsys.readouterr().out
    assert "ngf" in text and "[train]" in text and "Radford" in text


def test_info_text_lists_every_setting_with_its_default_and_allowed_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "wgan-gp"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for section in ("[model]", "[train]", "[data]"):
        assert section in lines
    header = next(line for line in lines if line.startswith("KEY"))
    assert header.split() == ["KEY", "DEFAULT", "ALLOWED", "DESCRIPTION"]
    rows = {line.split()[0]: line for line in lines if line and not line.startswith(("KEY", "[", " "))}
    assert rows["critic_norm"].split()[1:3] == ['"none"', '"none"|"layer"']
    assert rows["n_critic"].split()[1:5] == ["5", "int", ">=", "1"]
    assert rows["beta1"].split()[1:6] == ["0.0", "0", "<=", "float", "<"]
    assert "hinge|" in rows["loss"] and "wgan-gp" in rows["loss"]
    assert "(unset)" in rows["gp_weight"] and "preload_max_images" in rows


def test_plugin_commands_are_available_from_python(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import ganzoo

    assert ganzoo.model_info("wgan-gp")["defaults"]["train"]["n_critic"] == 5
    assert {row["distribution"] for row in ganzoo.registry()} >= {"ganzoo-plugin-dcgan", "ganzoo-plugin-wgan-gp"}
    assert {"dcgan", "wgan-gp"} <= {model for row in ganzoo.doctor()["plugins"] for model in row["models"]}
    written = ganzoo.new_plugin("my-gan", tmp_path / "my-gan")
    assert any(path.name == "pyproject.toml" for path in written)
    assert ganzoo.install_plugin("dcgan", dry_run=True) == 0
    assert str(REPO / "plugins" / "dcgan") in capsys.readouterr().out


def test_a_closed_output_pipe_is_not_a_traceback() -> None:
    # like `ganzoo list --json | head -0`: the reader is gone before ganzoo (still starting up) writes
    process = subprocess.Popen([sys.executable, "-m", "ganzoo", "list", "--json"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdout.close()
    _, err = process.communicate(timeout=60)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_info_losses(capsys: pytest.CaptureFixture[str]) -> None:
    losses = {row["name"]: row for row in run_json(capsys, "info", "--losses", "--json")}
    assert {"non-saturating", "minimax", "hinge", "wasserstein", "least-squares", "wgan-gp"} <= set(losses)
    assert losses["wgan-gp"]["gradient_penalty"] == 10.0 and losses["hinge"]["plugin"] == "ganzoo"


def test_unknown_model_suggests_close_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "dcgn"]) == 2
    assert "did you mean 'dcgan'" in capsys.readouterr().err


def test_registry_marks_installed_plugins(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {row["distribution"]: row for row in run_json(capsys, "registry", "--json")}
    assert rows["ganzoo-plugin-dcgan"]["installed"] == "0.1.0" and rows["ganzoo-plugin-dcgan"]["plugin_status"] == "ok"
    assert rows["ganzoo-plugin-dcgan"]["local_source"] == str(REPO / "plugins" / "dcgan")
    planned = [row for row in rows.values() if row["status"] == "planned"]  # none left once all nine are built
    assert all(row["installed"] is None for row in planned)
    assert main(["registry"]) == 0 and "INSTALLED" in capsys.readouterr().out


def test_install_resolves_through_the_catalogue(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["install", "--dry-run", "wgan-gp", "--no-deps"]) == 0
    assert capsys.readouterr().out.strip() == f"$ {sys.executable} -m pip install {REPO / 'plugins' / 'wgan-gp'} --no-deps"
    from ganzoo.catalogue import load_catalogue

    planned = [entry for entry in load_catalogue(REPO / "registry.toml").entries if entry.status == "planned"]
    if planned:  # once every official plugin is built there is nothing planned left to refuse
        assert main(["install", planned[0].models[0]]) == 2
        assert "planned but not built yet" in capsys.readouterr().err
    assert main(["install", "dcgn"]) == 2
    assert "did you mean 'dcgan'" in capsys.readouterr().err


def test_install_from_pypi_when_the_source_is_not_local(tmp_path: Path) -> None:
    registry = tmp_path / "registry.toml"
    registry.write_text((REPO / "registry.toml").read_text())  # relative sources now point nowhere
    command = install_command_line("dcgan", str(registry), pip_args=["--", "-U"])
    assert command == [sys.executable, "-m", "pip", "install", "ganzoo-plugin-dcgan", "-U"]
    with pytest.raises(InstallError, match="--editable needs a local source"):
        install_command_line("dcgan", str(registry), editable=True)


def test_doctor_reports_versions_devices_plugins_and_files(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tmp_path / "inception.pth"
    weights.write_bytes(b"not really weights")
    monkeypatch.setenv("GANZOO_INCEPTION_WEIGHTS", str(weights))
    monkeypatch.setattr(
        ganzoo.diagnostics, "OPTIONAL_FILE_CHECKS",
        [*ganzoo.diagnostics.OPTIONAL_FILE_CHECKS, lambda: [{"name": "extra", "present": False, "path": "/x", "note": ""}]],
    )
    report = run_json(capsys, "doctor", "--json")
    assert {"python", "torch", "torchvision", "ganzoo", "pluggy", "torch-fidelity", "timm"} <= set(report["versions"])
    assert report["versions"]["ganzoo"] == "0.1.0" and report["devices"]["default"] in ("cpu", "cuda", "mps")
    assert {p["name"]: p["status"] for p in report["plugins"]}["dcgan"] == "ok"
    files = {row["name"]: row for row in report["optional_files"]}
    inception = next(row for name, row in files.items() if name.startswith("inception"))
    assert inception["present"] and inception["path"] == str(weights)
    assert files["extra"]["present"] is False
    monkeypatch.setenv("GANZOO_INCEPTION_WEIGHTS", str(tmp_path / "missing.pth"))
    assert main(["doctor"]) in (0, 1)
    assert "optional files" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["list"], ["--help"], ["list", "--json"], ["registry"]])
def test_listing_does_not_import_torch(argv: list[str]) -> None:
    code = (
        "import sys; from ganzoo.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "assert not loaded, 'torch was imported: ' + ', '.join(loaded[:5])"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
