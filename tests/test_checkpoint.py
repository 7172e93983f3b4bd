"""Checkpoints: complete round trips without unpickling, crash safety, keep-last-N, digests, RNG states."""

from __future__ import annotations

import hashlib
import os
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from ganzoo import checkpoint as ckpt
from ganzoo.checkpoint import (
    CheckpointError,
    capture_rng,
    checkpoint_digest,
    list_checkpoints,
    load_run,
    resolve_checkpoint,
    restore_rng,
    save_checkpoint,
)
from ganzoo.plugins import get_host
from ganzoo.state import build_state
from ganzoo.testing import synthetic_batches

sys.path.insert(0, str(Path(__file__).parent))  # torch-fidelity installs a top-level "tests" package
from trainer_helpers import tiny_config  # noqa: E402


def _trained_state(steps: int = 2, **train: object):  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    config = tiny_config(steps=steps, **train)
    state = build_state(config.model_name, config, device="cpu")
    batches = synthetic_batches(state)
    for _ in range(steps):
        get_host().call("ganzoo_train_step", state.spec, state=state, batches=batches)
        state.step += 1
        state.update_ema()
    return state


def _save_run(run_dir: Path, state, **kwargs):  # type: ignore[no-untyped-def]
    state.config.save(run_dir / "config.toml")
    return save_checkpoint(run_dir, state, {"epoch": 1, "batch_in_epoch": 2, "seed": 0}, **kwargs)


def test_a_checkpoint_restores_networks_optimizers_and_ema(tmp_path: Path) -> None:
    state = _trained_state(ema_decay=0.8)
    path = _save_run(tmp_path, state)
    assert sorted(p.name for p in path.iterdir()) == ["config.toml", "meta.json", "state.pt", "weights.safetensors"]
    loaded = load_run(tmp_path)
    assert loaded.step == 2 and loaded.checkpoint_path == path and loaded.meta["data_position"]["batch_in_epoch"] == 2
    original, restored = state.state_dict(), loaded.state.state_dict()
    for name, weights in original["networks"].items():
        for key, value in weights.items():
            assert torch.equal(value, restored["networks"][name][key]), f"{name}.{key}"
    for key, value in original["ema"]["generator"].items():
        assert torch.equal(value, restored["ema"]["generator"][key]), f"ema {key}"
    adam = original["optimizers"]["generator"]["state"][0]
    assert torch.equal(adam["exp_avg"], restored["optimizers"]["generator"]["state"][0]["exp_avg"])
    assert not any(net.training for net in loaded.state.networks.values()), "load_run returns an eval-ready state"


def test_nothing_in_a_checkpoint_needs_unpickling(tmp_path: Path) -> None:
    path = _save_run(tmp_path, _trained_state())
    assert any(key.startswith("networks.generator.") for key in load_file(str(path / "weights.safetensors")))
    rest = torch.load(path / "state.pt", weights_only=True)  # raises on any pickled object
    assert set(rest) == {"optimizers", "scaler", "extras", "rng"}


def test_a_crash_while_saving_leaves_the_previous_checkpoint_loadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    state = _trained_state(steps=1)
    first = _save_run(tmp_path, state)
    state.step = 2
    real_replace = os.replace

    def killed_when_publishing(src, dst):  # type: ignore[no-untyped-def]
        if Path(src).is_dir():  # the moment the finished folder would be renamed into place
            raise KeyboardInterrupt("killed")
        return real_replace(src, dst)

    monkeypatch.setattr(ckpt.os, "replace", killed_when_publishing)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, state)
    monkeypatch.undo()
    assert resolve_checkpoint(tmp_path) == first and load_run(tmp_path).step == 1
    assert list_checkpoints(tmp_path) == [first], "half-written folders are never listed"

    abandoned = tmp_path / "checkpoints" / ".step-000009.2147483647.tmp"  # a killed process's half-written folder
    abandoned.mkdir()
    save_checkpoint(tmp_path, state)
    assert not abandoned.exists(), "the next save removes folders of dead processes"
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000001", "step-000002"]


def test_only_the_newest_checkpoints_are_kept(tmp_path: Path) -> None:
    state = _trained_state(steps=1)
    for step in range(1, 5):
        state.step = step
        _save_run(tmp_path, state, keep=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000003", "step-000004"]
    assert (tmp_path / "checkpoints" / "latest").read_text().strip() == "step-000004"
    assert load_run(tmp_path, checkpoint="3").step == 3 and load_run(tmp_path, "step-000004").step == 4
    with pytest.raises(CheckpointError, match=r"'step-000001' not found .*available: step-000003, step-000004"):
        load_run(tmp_path, "step-000001")


def test_the_digest_is_the_sha256_of_the_weights_and_tracks_them(tmp_path: Path) -> None:
    state = _trained_state(steps=1)
    path = _save_run(tmp_path, state)
    expected = hashlib.sha256((path / "weights.safetensors").read_bytes()).hexdigest()
    assert checkpoint_digest(path) == checkpoint_digest(path / "weights.safetensors") == expected
    with torch.no_grad():
        next(state.unwrapped("generator").parameters()).add_(1.0)
    state.step = 2
    assert checkpoint_digest(_save_run(tmp_path, state)) != expected


def test_rng_states_round_trip() -> None:
    saved = capture_rng()
    expected = (torch.rand(3), random.random(), np.random.rand())
    torch.rand(5), random.random(), np.random.rand(7)
    restore_rng(saved)
    again = (torch.rand(3), random.random(), np.random.rand())
    assert torch.equal(expected[0], again[0]) and expected[1:] == again[1:]


def test_a_directory_that_is_not_a_run_is_named(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match=f"{tmp_path} has no checkpoints"):
        load_run(tmp_path)
