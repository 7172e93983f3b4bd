"""The speed benchmarks measure against the right baselines and still run (tiny sizes: no timing asserted).

``benchmarks/train_throughput.py``'s baseline must stay the classic loop of the PyTorch DCGAN example (one
generator pass per iteration, its fakes reused for the G step) and its "plain" line the two-pass loop; the
trainer's default step must make the classic loop's choice, or the ratio compares different work.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest
import torch

from ganzoo import get_model, resolve_config
from ganzoo.data.digits import DigitsDataset
from ganzoo.data.loader import EpochBatchSource, EpochLoader
from ganzoo.plugins import get_host
from ganzoo.state import GANState, build_state

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def throughput() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_throughput", ROOT / "benchmarks" / "train_throughput.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_args() -> argparse.Namespace:
    return argparse.Namespace(image_size=32, width=8, batch_size=8, steps=2, warmup=1, rounds=1, paired_steps=2)


def generator_passes(state: GANState, run: Callable[[], Any]) -> int:
    """How many times ``run()`` calls the generator of ``state``."""
    calls = []
    handle = state.networks["generator"].register_forward_hook(lambda *_: calls.append(1))
    try:
        run()
    finally:
        handle.remove()
    return len(calls)


@pytest.mark.parametrize("classic, passes", [(True, 1), (False, 2)])
def test_the_hand_written_loops_draw_the_fakes_as_their_references_do(throughput: ModuleType, classic: bool,
                                                                      passes: int) -> None:
    args = tiny_args()
    state = throughput.build_state("dcgan", throughput.run_config(args, "cpu", "fp32", False), device="cpu")
    step = throughput.HandWrittenStep(state, "fp32", "cpu", classic=classic)
    real = torch.rand(args.batch_size, 3, 32, 32) * 2 - 1
    before = [p.detach().clone() for net in state.networks.values() for p in net.parameters()]
    assert generator_passes(state, lambda: step(real)) == passes
    after = [p.detach() for net in state.networks.values() for p in net.parameters()]
    assert all(not torch.equal(old, new) for old, new in zip(before, after))  # both networks were updated


def test_the_trainer_default_step_makes_the_classic_loops_choice(throughput: ModuleType) -> None:
    config = resolve_config(get_model("dcgan"), values={  # the default train section, as a user gets it
        "model": {"image_size": 32, "channels": 3, "ngf": 8, "ndf": 8}, "train": {"batch_size": 8, "device": "cpu"}})
    state = build_state("dcgan", config, device="cpu")
    batches = EpochBatchSource(EpochLoader(DigitsDataset("train", 32, 3), 8), torch.device("cpu"))
    step = lambda: get_host().call("ganzoo_train_step", state.spec, state=state, batches=batches)  # noqa: E731
    assert generator_passes(state, step) == 1


def test_train_throughput_prints_every_ratio(throughput: ModuleType, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["train_throughput.py", "--image-size", "32", "--width", "8", "--batch-size", "8",
                                      "--steps", "2", "--warmup", "1", "--rounds", "1", "--paired-steps", "2"])
    throughput.main()
    out = capsys.readouterr().out
    for setting in ("cpu fp32", "cpu bf16+channels-last"):
        summary = re.search(rf"^  {re.escape(setting)} +[\d.]+ +[\d.]+ +[\d.]+ +([\d.]+) +([\d.]+)", out, re.M)
        paired = re.search(rf"^  {re.escape(setting)} +classic +[\d.]+ +ganzoo step +[\d.]+ +speed ratio ([\d.]+)", out, re.M)
        assert summary is not None and paired is not None, out
        assert float(summary.group(1)) > 0 and float(paired.group(1)) > 0
