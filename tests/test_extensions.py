"""Extension hooks and loss-only / dataset-only plugins, including the worked examples of docs/plugins.md."""

from __future__ import annotations

import json
import re
import sys
import textwrap
import uuid
from importlib import metadata
from pathlib import Path

import pytest
import torch

import ganzoo.plugins
from ganzoo.cli import main
from ganzoo.plugins import PluginHost
from ganzoo.testing import fake_entry_point

sys.path.insert(0, str(Path(__file__).parent))
from trainer_helpers import TINY_TRAIN  # noqa: E402

DOCS = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text(encoding="utf-8")


def docs_example(name: str) -> dict[str, str]:
    """The files of one worked example: each ```python block right after `<!-- example-file: NAME PATH -->`."""
    blocks = re.findall(rf"<!-- example-file: {name} (\S+) -->\s*```python\n(.*?)```", DOCS, flags=re.S)
    assert blocks, f"docs/plugins.md has no worked example {name!r}"
    return dict(blocks)


def install_fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], entry: str,
                 distribution: str) -> PluginHost:
    """Write the plugin's files, make the process-wide host load it beside the installed plugins."""
    root = tmp_path / uuid.uuid4().hex[:8]
    package = {path.split("/")[0] for path in files}
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    for name in package:
        (root / name / "__init__.py").touch()
    monkeypatch.syspath_prepend(str(root))
    module = next(iter(files)).split("/")[0] + ".plugin"
    installed = [ep for ep in metadata.entry_points(group="ganzoo")]
    host = PluginHost([*installed, fake_entry_point(entry, module, distribution)], strict=True, disabled=())
    monkeypatch.setattr(ganzoo.plugins, "_HOST", host)
    return host


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def rsgan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    for module in [m for m in sys.modules if m.startswith("ganzoo_rsgan")]:
        monkeypatch.delitem(sys.modules, module)
    return install_fake(tmp_path, monkeypatch, docs_example("loss-only"), "rsgan", "ganzoo-plugin-rsgan")


def test_loss_only_example_is_listed_described_and_trains(rsgan: PluginHost, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    rows = run_json(capsys, "list", "--json", "--kind", "loss")
    assert [(r["name"], r["kind"], r["plugin"]) for r in rows] == [("rsgan", "loss", "ganzoo-plugin-rsgan")] + [
        (r["name"], "loss", r["plugin"]) for r in rows if r["name"] != "rsgan"]
    info = run_json(capsys, "info", "rsgan", "--json")
    assert info["kind"] == "loss" and info["plugin"] == "ganzoo-plugin-rsgan" and info["generator_needs_real_scores"]
    from trainer_helpers import few_digits, metric_rows, tiny_config

    from ganzoo.trainer import Trainer

    config = tiny_config("dcgan", steps=3, loss="rsgan", loss_options={"smoothing": 0.1})
    Trainer(config, tmp_path / "run", dataset=few_digits()).train()
    assert rsgan.get_loss("rsgan").build(config).smoothing == 0.1
    assert all(torch.isfinite(torch.tensor(row["loss_g"])) for row in metric_rows(tmp_path / "run"))


def test_loss_only_plugin_gets_the_loss_conformance_checks(rsgan: PluginHost) -> None:
    from ganzoo.testing import LossConformanceSuite, conformance_tests

    suite = conformance_tests(plugin="rsgan")
    assert issubclass(suite, LossConformanceSuite) and list(suite.losses) == ["rsgan"] and not suite.models
    checks = [name for name in dir(suite) if name.startswith("test_")]
    assert len(checks) == 3
    for check in checks:
        getattr(suite(), check)("rsgan")


def test_loss_conformance_catches_a_loss_that_rewards_the_wrong_player() -> None:
    from ganzoo.losses import HingeLoss
    from ganzoo.testing import LossConformanceSuite

    class Backwards(HingeLoss):
        def discriminator_loss(self, real_scores, fake_scores):  # type: ignore[no-untyped-def]
            return super().discriminator_loss(fake_scores, real_scores)

    class Suite(LossConformanceSuite):
        losses = ["backwards"]

        @staticmethod
        def _loss(name: str) -> object:
            return Backwards()

    with pytest.raises(AssertionError, match="real scores above fake"):
        Suite().test_loss_rewards_each_player("backwards")


def test_a_run_trained_with_a_plugin_loss_samples_and_benches_without_the_plugin(
    rsgan: PluginHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from trainer_helpers import few_digits, tiny_config

    from ganzoo.checkpoint import load_run
    from ganzoo.trainer import Trainer

    Trainer(tiny_config("dcgan", steps=2, loss="rsgan"), tmp_path / "run", dataset=few_digits()).train()
    monkeypatch.setattr(ganzoo.plugins, "_HOST", PluginHost(list(metadata.entry_points(group="ganzoo")), disabled=()))
    loaded = load_run(tmp_path / "run")
    with pytest.raises(RuntimeError, match="'rsgan' is unavailable.*inference needs no loss"):
        loaded.state.loss.discriminator_loss(torch.zeros(1), torch.zeros(1))
    out = tmp_path / "samples.png"
    assert main(["sample", str(tmp_path / "run"), "--num", "4", "--out", str(out)]) == 0 and out.is_file()
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GANZOO_LEADERBOARD_DB", str(tmp_path / "board.sqlite"))
    small = ["--num-samples", "100", "--set-protocol", "kid_subset_size=50", "--set-protocol", "kid_subsets=2"]
    assert main(["bench", str(tmp_path / "run"), "--metrics", "kid", *small, "--record"]) == 0
    capsys.readouterr()
    assert main(["leaderboard"]) == 0
    table = capsys.readouterr().out
    assert "rsgan (ganzoo-plugin-rsgan)" in table and " loss " in table, "the leaderboard names the loss and its plugin"
    with pytest.raises(ganzoo.plugins.UnknownNameError, match="unknown loss 'rsgan'"):  # training still needs it
        Trainer.from_run_dir(tmp_path / "run", steps=3).train()


def test_dataset_only_example_is_listed_and_trains(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    for module in [m for m in sys.modules if m.startswith("ganzoo_rings")]:
        monkeypatch.delitem(sys.modules, module)
    install_fake(tmp_path, monkeypatch, docs_example("dataset-only"), "rings", "ganzoo-plugin-rings")
    rows = run_json(capsys, "list", "--json", "--kind", "dataset")
    assert [(r["name"], r["plugin"]) for r in rows] == [("rings", "ganzoo-plugin-rings")]
    assert run_json(capsys, "info", "rings", "--json")["tasks"] == ["unconditional", "class-conditional"]
    from trainer_helpers import tiny_config

    from ganzoo.data import DataError, build_dataset, known_datasets
    from ganzoo.trainer import Trainer

    assert "rings" in known_datasets()
    config = tiny_config("dcgan", steps=2)
    config.data.dataset = "rings"
    data = build_dataset(config.data, config.model, "class-conditional", split="test")
    assert len(data) == 200 and set(data[0]) == {"image", "label"} and data[0]["image"].shape == (1, 16, 16)
    with pytest.raises(DataError, match="splits train, test"):
        build_dataset(config.data, config.model, "unconditional", split="valid")
    assert Trainer(config, tmp_path / "run").train().step == 2


PLUGIN = '''
import argparse
from ganzoo import hookimpl
from ganzoo.specs import AugmentationSpec, CommandSpec, DatasetSpec

GANZOO_API = ">=1"

def hello(args):
    print(f"hello {args.who}")
    return 3

def invert(images, generator):
    return [-image for image in images]

@hookimpl
def ganzoo_register_commands(register):
    register(CommandSpec("hello", "say hello", lambda parser: parser.add_argument("who"), hello))
    register(CommandSpec("train", "clashes with the built-in", lambda parser: None, hello))

@hookimpl
def ganzoo_register_augmentations(register):
    register(AugmentationSpec("invert", lambda: invert, "negate images"))

@hookimpl
def ganzoo_register_protocols(register):
    from ganzoo.metrics.protocol import Protocol
    register(Protocol(name="digits-small", dataset="digits", image_size=16, channels=1, num_samples=100,
                      feature_extractor="ganzoo-digits-cnn", kid_subset_size=50))
'''


def test_commands_protocols_and_augmentations_from_a_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    module = f"ext_plugin_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    installed = list(metadata.entry_points(group="ganzoo"))
    host = PluginHost([*installed, fake_entry_point("extras", module, "ganzoo-plugin-extras")], strict=True, disabled=())
    monkeypatch.setattr(ganzoo.plugins, "_HOST", host)
    assert main(["hello", "world"]) == 3
    captured = capsys.readouterr()
    assert "hello world" in captured.out and "command 'train' clashes with a built-in command" in captured.err
    from ganzoo.metrics.protocol import PRESETS, get_preset

    assert get_preset("digits-small").num_samples == 100 and "digits" in PRESETS, "plugins' and the core's presets"
    assert host.extension_plugin("protocol", "digits-small") == "ganzoo-plugin-extras"
    from trainer_helpers import tiny_config

    from ganzoo.augment import build_augmenter

    config = tiny_config("dcgan")
    config.data.augment = ["invert"]
    augmenter = build_augmenter(config, ganzoo.plugins.get_host().get_model("dcgan"))
    images = torch.rand(2, 1, 4, 4)
    assert torch.equal(augmenter.augment_batch({"image": images}, {})["image"], -images)
    kinds = {(row["name"], row["kind"]) for row in host.model_records()}
    assert {("hello", "command"), ("invert", "augmentation"), ("digits-small", "protocol")} <= kinds


def test_an_extension_name_taken_by_the_core_breaks_only_that_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = f"ext_dup_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent('''
        from ganzoo import hookimpl
        from ganzoo.specs import DatasetSpec
        GANZOO_API = ">=1"
        @hookimpl
        def ganzoo_register_datasets(register):
            register(DatasetSpec("digits", lambda: None, "another digits"))
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost([fake_entry_point("dup", module, "ganzoo-plugin-dup")], strict=False, disabled=())
    (record,) = [r for r in host.records if r.name == "dup"]
    assert record.status == "broken" and "dataset 'digits' is already registered by ganzoo" in record.error
    assert host.extension_plugin("dataset", "digits") == "ganzoo"


def test_help_and_list_load_plugin_commands_without_torch() -> None:
    import subprocess

    code = ("import sys\nfrom ganzoo.cli import build_parser\nbuild_parser()\n"
            "assert 'torch' not in sys.modules, 'building the parser imported torch'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_a_leaderboard_file_from_before_the_loss_columns_is_upgraded(tmp_path: Path) -> None:
    import sqlite3

    from ganzoo.leaderboard.store import _SCHEMA, Leaderboard

    path = tmp_path / "old.sqlite"
    old_schema = _SCHEMA.replace("    loss TEXT,\n    loss_plugin TEXT,\n", "")
    assert old_schema != _SCHEMA
    with sqlite3.connect(path) as connection:
        connection.executescript(old_schema + "PRAGMA user_version = 1;")
    board = Leaderboard(path)
    assert board.entries() == []
    with sqlite3.connect(path) as connection:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(results)")}
        assert {"loss", "loss_plugin"} <= columns
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
