"""Tiny runs shared by the trainer, checkpoint, CLI and distributed tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganzoo import get_model, resolve_config
from ganzoo.config import RunConfig
from ganzoo.data.digits import DigitsDataset
from ganzoo.data.preloaded import PreloadedDataset

TINY_TRAIN = {"batch_size": 8, "device": "cpu", "progress": False, "log_every": 1, "sample_every": 1000,
              "checkpoint_every": 1000, "sample_count": 16}


def tiny_config(model: str = "dcgan", steps: int = 6, **train: Any) -> RunConfig:
    """The model's tiny networks on 16 px grey digits, CPU, no progress bar."""
    spec = get_model(model)
    return resolve_config(spec, values={"model": {**spec.tiny_config, "channels": 1, "image_size": 16},
                                        "train": {**TINY_TRAIN, "steps": steps, **train}})


def few_digits(count: int = 24) -> PreloadedDataset:
    """The first ``count`` training digits at 16 px (3 batches of 8: runs cross epochs quickly)."""
    digits = DigitsDataset("train", 16, 1)
    return PreloadedDataset({key: value[:count] for key, value in digits.tensors.items()})


def tiny_cli_args(out: Path, steps: int = 4) -> list[str]:
    """``ganzoo train`` arguments for a tiny dcgan run on digits."""
    spec = get_model("dcgan")
    sets = [f"--set=model.{key}={value}" for key, value in {**spec.tiny_config, "channels": 1}.items()]
    return ["train", "dcgan", "--dataset", "digits", "--steps", str(steps), "--batch-size", "8", "--device", "cpu",
            "--out", str(out), "--no-progress", *sets, "--set", "train.sample_count=16", "--set", "train.log_every=1"]


def metric_rows(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of a run's metrics.jsonl."""
    path = Path(run_dir) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
