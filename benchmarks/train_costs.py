"""What training each official model costs here: peak RSS and images/s of ``ganzoo train`` at its defaults.

Every installed model is trained for a few steps with its own default configuration (the paper's settings,
the model's default dataset: digits for noise-to-image models, the shapes pairs for image-to-image ones), one
``ganzoo train`` process at a time, so the peak resident memory of each process is the model's alone.  The
rate is the steady state after the first logging window (data loading and warm-up excluded).

    .venv/bin/python benchmarks/train_costs.py [--steps 20] [--models dcgan,sagan] [--markdown]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ganzoo import get_model, list_models


def measure(model: str, steps: int, warmup: int) -> dict[str, float | int | str]:
    """Run ``ganzoo train MODEL`` for ``steps`` steps in a child process; its peak RSS and steady images/s."""
    with tempfile.TemporaryDirectory() as run_dir:
        command = [sys.executable, "-m", "ganzoo", "train", model, "--steps", str(steps), "--out", run_dir,
                   "--no-progress", "--set", f"train.log_every={warmup}", "--set", "train.sample_every=100000",
                   "--set", "train.checkpoint_every=100000"]
        started = time.perf_counter()
        with tempfile.TemporaryFile("w+") as errors:
            child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors, text=True)
            _, status, usage = os.wait4(child.pid, 0)  # this child's own peak RSS (KiB on Linux)
            child.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - started
            if child.returncode != 0:
                errors.seek(0)
                return {"model": model, "error": (errors.read().strip().splitlines() or ["failed"])[-1]}
        peak_kib = usage.ru_maxrss
        rows = [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
        config = (Path(run_dir) / "config.toml").read_text()
    steady = [row for row in rows if row["step"] > warmup and row.get("images_per_s")]
    rate = sum(row["images_per_s"] for row in steady) / len(steady) if steady else float("nan")
    batch = next(int(line.split("=")[1]) for line in config.splitlines() if line.startswith("batch_size"))
    return {"model": model, "peak_rss_mib": peak_kib // 1024, "images_per_s": round(rate, 1), "batch_size": batch,
            "steps_per_s": round(rate / batch, 2), "wall_s": round(wall, 1),
            "dataset": get_model(model).data_defaults.get("dataset", "digits")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--models", default=None, help="comma-separated (default: every installed model)")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    args = parser.parse_args()
    models = args.models.split(",") if args.models else list_models()
    results = []
    print(f"load average at start {os.getloadavg()[0]:.2f}", file=sys.stderr)
    for model in models:
        result = measure(model, args.steps, args.warmup)
        results.append(result)
        print(json.dumps(result), file=sys.stderr, flush=True)
    print(f"load average at end {os.getloadavg()[0]:.2f}", file=sys.stderr)
    if args.markdown:
        print("| model | dataset | batch | images/s | steps/s | peak RSS (MiB) |")
        print("|---|---|---|---|---|---|")
        for row in results:
            if "error" in row:
                print(f"| {row['model']} | failed: {row['error']} | | | | |")
            else:
                print(f"| {row['model']} | {row['dataset']} | {row['batch_size']} | {row['images_per_s']} | "
                      f"{row['steps_per_s']} | {row['peak_rss_mib']} |")


if __name__ == "__main__":
    main()
