"""A plugin written against API 1 (tests/api1_plugin) keeps loading, training, sampling and benching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import ganzoo.plugins
from ganzoo.cli import main
from ganzoo.plugins import PluginHost
from ganzoo.testing import fake_entry_point

PLUGIN_DIR = Path(__file__).parent / "api1_plugin"


@pytest.fixture
def api1_host(monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    host = PluginHost([fake_entry_point("api1-demo", "ganzoo_api1_demo", "ganzoo-plugin-api1-demo")], strict=True,
                      disabled=())
    monkeypatch.setattr(ganzoo.plugins, "_HOST", host)
    return host


@pytest.fixture
def trained_run(api1_host: PluginHost, tmp_path: Path) -> Path:
    from ganzoo.trainer import train

    out = tmp_path / "run"
    train("api1-demo", out, dataset="digits", steps=4, batch_size=8, device="cpu", progress=False,
          sample_every=2, checkpoint_every=2, sample_count=9)
    return out


def test_api1_plugin_loads_speaking_api_1(api1_host: PluginHost) -> None:
    [record] = [r for r in api1_host.records if r.name == "api1-demo"]
    assert record.status == "ok" and record.api == 1
    assert api1_host.get_model("api1-demo").api == 1


def test_api1_plugin_trains_resumes_and_previews(trained_run: Path) -> None:
    from ganzoo.trainer import Trainer

    rows = [json.loads(line) for line in (trained_run / "metrics.jsonl").read_text().splitlines()]
    assert {"loss_d", "loss_g"} <= set(rows[-1])
    assert (trained_run / "samples" / "step-000002.png").exists()  # ganzoo_preview returned None: the default grid
    result = Trainer.from_run_dir(trained_run, steps=6).train()
    assert result.step == 6


def test_api1_helper_without_trainable_parameters_gets_no_optimizer(api1_host: PluginHost) -> None:
    from ganzoo.testing import build_tiny_state

    state = build_tiny_state("api1-demo")
    assert set(state.optimizers) == {"generator", "discriminator"}
    assert state.roles == {"generator": "generator", "discriminator": "discriminator", "helper": "discriminator"}


def test_api1_plugin_samples_and_benches(trained_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "grid.png"
    assert main(["sample", str(trained_run), "--num", "6", "--out", str(out)]) == 0
    assert out.exists()
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["bench", str(trained_run), "--metrics", "kid", "--num-samples", "60", "--set-protocol",
                 "kid_subset_size=30", "--set-protocol", "kid_subsets=2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["num_samples"] == 60 and torch.isfinite(torch.tensor(result["metrics"]["kid"]))


def test_api1_sampler_cannot_silently_drop_truncation(trained_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sample", str(trained_run), "--num", "2", "--truncation", "0.5"]) != 0
    assert "does not accept 'truncation'" in capsys.readouterr().err
