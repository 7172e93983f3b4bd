"""``train.compile`` on this machine: compile time and steady-state images/s, eager and compiled side by side.

For each model (DCGAN-64 with the reference widths, SAGAN-32 when its plugin is installed) the trainer runs
the same short job twice per round, once eager and once with ``train.compile = true`` (inductor backend),
alternating; the best steady-state rate of each is kept.  The compiled run's first logging window includes
compilation: its extra seconds over the eager run's first window are reported as the compile time.

    .venv/bin/python benchmarks/compile_speed.py [--models dcgan,sagan] [--steps 12] [--warmup 3] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import torch

from ganzoo import get_model, list_models, resolve_config
from ganzoo.data.digits import DigitsDataset
from ganzoo.trainer import Trainer

SHAPES = {"dcgan": {"image_size": 64, "channels": 3}, "sagan": {"image_size": 32, "channels": 3}}


def measure(model: str, args: argparse.Namespace, dataset: DigitsDataset, compiled: bool) -> tuple[float, float]:
    """(seconds of the first logging window, steady-state images/s after it) for one run."""
    train = {"steps": args.warmup + args.steps, "batch_size": args.batch_size, "device": "cpu", "progress": False,
             "log_every": args.warmup, "sample_every": 10**9, "checkpoint_every": 10**9, "compile": compiled}
    config = resolve_config(get_model(model), values={"model": SHAPES[model], "train": train})
    with tempfile.TemporaryDirectory() as run_dir:
        Trainer(config, run_dir, dataset=dataset).train()
        rows = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    first = args.warmup * args.batch_size / rows[0]["images_per_s"]
    steady = [row for row in rows if row["step"] > args.warmup]
    count = sum((row["step"] - previous["step"]) * args.batch_size for previous, row in zip(rows, steady))
    seconds = sum((row["step"] - previous["step"]) * args.batch_size / row["images_per_s"]
                  for previous, row in zip(rows, steady))
    return first, count / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="dcgan,sagan")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=12, help="measured steps after the first window")
    parser.add_argument("--warmup", type=int, default=3, help="steps in the first window (compilation happens there)")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    models = [name for name in args.models.split(",") if name in list_models()]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load {os.getloadavg()[0]:.2f}")
    for model in models:
        dataset = DigitsDataset("train", SHAPES[model]["image_size"], SHAPES[model]["channels"])
        best: dict[bool, tuple[float, float]] = {}
        for _ in range(args.rounds):
            for compiled in (False, True):
                torch._dynamo.reset()
                first, rate = measure(model, args, dataset, compiled)
                keep = best.get(compiled)
                best[compiled] = (min(first, keep[0]) if keep else first, max(rate, keep[1]) if keep else rate)
                print(f"  {model} {'compiled' if compiled else 'eager':8s} first window {first:6.1f} s, "
                      f"steady {rate:6.1f} img/s (load {os.getloadavg()[0]:.2f})", flush=True)
        (eager_first, eager_rate), (compiled_first, compiled_rate) = best[False], best[True]
        print(f"{model}-{SHAPES[model]['image_size']}: compile time ~{compiled_first - eager_first:.1f} s, "
              f"eager {eager_rate:.1f} img/s, compiled {compiled_rate:.1f} img/s, "
              f"compiled/eager {compiled_rate / eager_rate:.2f}")


if __name__ == "__main__":
    main()
