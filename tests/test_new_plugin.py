"""`ganzoo new-plugin`: the generated package installs with pip and passes its own tests straight away."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ganzoo.cli import main
from ganzoo.templates import PLUGIN_FILES, plugin_variables, render_plugin
from ganzoo.testing.isolated import PIP_OFFLINE, IsolatedEnvironment


@pytest.mark.slow
def test_generated_plugin_installs_and_passes_its_tests(ganzoo_isolated_env: IsolatedEnvironment, tmp_path: Path) -> None:
    env = ganzoo_isolated_env
    target = tmp_path / "my-plugin"
    result = env.ganzoo("new-plugin", "tiny-gan", "--dir", target)
    assert result.returncode == 0, result.stderr
    env.pip("install", *PIP_OFFLINE, "-e", target)
    try:
        rows = json.loads(env.ganzoo("list", "--json").stdout)
        assert [(r["name"], r["plugin"], r["status"]) for r in rows] == [("tiny-gan", "ganzoo-plugin-tiny-gan", "ok")]
        tests = env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=target, check=False,
                        env=env.environ(OMP_NUM_THREADS="1"))  # tiny networks: one thread avoids oversubscription
        assert tests.returncode == 0, tests.stdout + tests.stderr
        passed = re.search(r"(\d+) passed", tests.stdout)
        assert passed and int(passed.group(1)) >= 10, tests.stdout  # the conformance suite ran, not only the smoke test
    finally:
        env.pip("uninstall", "-y", "-q", "ganzoo-plugin-tiny-gan")


def test_every_template_placeholder_is_filled(tmp_path: Path) -> None:
    written = render_plugin("shiny-gan", tmp_path, distribution="shiny-gan-for-ganzoo")
    assert len(written) == len(PLUGIN_FILES)
    for path in written:
        assert "$" not in path.read_text(), f"{path} has an unreplaced placeholder"
    assert (tmp_path / "ganzoo_shiny_gan" / "plugin.py").is_file()
    assert 'name = "shiny-gan-for-ganzoo"' in (tmp_path / "pyproject.toml").read_text()
    assert 'shiny-gan = "ganzoo_shiny_gan.plugin"' in (tmp_path / "pyproject.toml").read_text()


def test_plugin_module_declares_the_current_api() -> None:
    from ganzoo._version import API_VERSION
    from packaging.specifiers import SpecifierSet

    assert API_VERSION in SpecifierSet(plugin_variables("x")["api"])


@pytest.mark.parametrize("name", ["My-GAN", "9gan", "gan_", "a--b", "gan\n", "gan\nx"])
def test_invalid_names_are_refused(name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["new-plugin", name, "--dir", str(tmp_path / "out")]) == 2
    assert "is invalid" in capsys.readouterr().err


@pytest.mark.parametrize("distribution", ['x"\n[tool.evil]\nrun = "1', "x\n", "-x", "x y", 'x"'])
def test_invalid_distributions_are_refused(distribution: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["new-plugin", "x-gan", f"--distribution={distribution}", "--dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "--distribution" in err and "is invalid" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["new-plugin", "x-gan", "--dir", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["new-plugin", "x-gan", "--dir", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_generated_loss_only_plugin_loads_and_passes_its_tests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    from importlib import metadata

    import ganzoo.plugins
    from ganzoo.plugins import PluginHost
    from ganzoo.testing import fake_entry_point

    target = tmp_path / "ganzoo-plugin-margin-ra"
    assert main(["new-plugin", "margin-ra", "--kind", "loss", "--dir", str(target)]) == 0
    assert 'description = "The margin-ra adversarial loss for ganzoo"' in (target / "pyproject.toml").read_text()
    monkeypatch.syspath_prepend(str(target))
    installed = list(metadata.entry_points(group="ganzoo"))
    host = PluginHost([*installed, fake_entry_point("margin-ra", "ganzoo_margin_ra.plugin", "ganzoo-plugin-margin-ra")],
                      strict=True, disabled=())
    monkeypatch.setattr(ganzoo.plugins, "_HOST", host)
    assert host.get_loss("margin-ra").plugin == "ganzoo-plugin-margin-ra"
    ran = 0
    for test_file in sorted((target / "tests").glob("test_*.py")):
        spec = importlib.util.spec_from_file_location(f"generated_{test_file.stem}", test_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for name, value in vars(module).items():
            if name.startswith("test_") and callable(value):
                value()
                ran += 1
            elif name.startswith("Test"):
                for check in (c for c in dir(value) if c.startswith("test_")):
                    getattr(value(), check)("margin-ra")
                    ran += 1
    assert ran >= 6  # three own tests and the three loss conformance checks
