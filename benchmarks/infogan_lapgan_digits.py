"""InfoGAN and LAPGAN on digits: FID/KID/IS under the ``digits`` protocol, and what InfoGAN's code learned.

    .venv/bin/python benchmarks/infogan_lapgan_digits.py [--models infogan,lapgan,lapgan-cc] [--seeds 1] [--scale 1]
    .venv/bin/python benchmarks/infogan_lapgan_digits.py --runs-only runs/bench-il/infogan-seed0   # measure a run

Each model is trained exactly as the official leaderboard trains it (``scripts/official_leaderboard.py``: its
plugin's defaults, the same real images seen by every model, ``BUDGET_IMAGES["digits"]`` times ``--scale``; the network of
``configs/<model>-digits.toml``) and benchmarked untrained, half way and at the end (full-resolution samples,
FID/KID/IS/precision/recall with the shipped ``ganzoo-digits-cnn``).  For InfoGAN the final checkpoint is also
measured with :mod:`ganzoo_infogan.evaluation`:

- ``mi``: the mutual-information estimate H(c) - CE(Q) on 1,000 fresh samples (at most ln 10 = 2.303 nats);
- ``generated_accuracy``: samples of each code value labelled by ``ganzoo-digits-cnn``, best code -> digit
  assignment (Hungarian matching): how well the code alone decides which digit is drawn;
- ``real_accuracy``: Q's code for the held-out real digits, matched to their labels (the paper's
  "code as a classifier": 5% error on MNIST).

Results are printed as a Markdown table and written to ``OUT/results.json``.  A measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def leaderboard_module() -> Any:
    """``scripts/official_leaderboard.py``: its budget rule and run/bench loop are the ones used here."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import official_leaderboard

    return official_leaderboard


def code_metrics(run_dir: Path, samples: int = 1000, per_code: int = 100) -> dict[str, Any]:
    """InfoGAN's code measurements on a run's latest checkpoint."""
    from ganzoo.checkpoint import load_run
    from ganzoo.data.digits import DigitsDataset
    from ganzoo_infogan.evaluation import (generated_code_accuracy, mutual_information, real_data_accuracy,
                                           shipped_classifier)

    loaded = load_run(run_dir, device="cpu")
    state, spec = loaded.state, loaded.spec
    classify, classes = shipped_classifier("digits-cnn")
    held_out = DigitsDataset("test", state.model_config.image_size, state.model_config.channels).tensors
    generated = generated_code_accuracy(spec, state, classify, classes, per_code=per_code)
    real = real_data_accuracy(state, held_out["image"], held_out["label"], classes)
    return {"step": loaded.step, "mi": mutual_information(spec, state, num=samples),
            "mi_max": math.log(state.model_config.categories), "generated_accuracy": generated.accuracy,
            "generated_assignment": generated.assignment, "real_accuracy": real.accuracy,
            "real_assignment": real.assignment}


def train_and_bench(models: list[str], seeds: int, scale: float, out: Path, cache: str | None) -> list[dict[str, Any]]:
    board = leaderboard_module()
    images = {name: max(1, int(count * scale)) for name, count in board.BUDGET_IMAGES.items()}
    rows = []
    for job in sorted(board.eligible_jobs(models, seeds, images, final_only=()), key=lambda job: job.name):
        started = time.perf_counter()
        results = sorted(board.run_job(job, str(out), cache, 1), key=lambda result: result["train_steps"])
        seconds = time.perf_counter() - started
        for result in results:
            rows.append({"model": job.model, "seed": job.seed, "step": result["train_steps"],
                         "untrained": result["train_steps"] == 0,
                         "images": result["train_steps"] * _images_per_step(result),
                         **{key: result["metrics"].get(key) for key in ("fid", "kid", "isc", "precision", "recall")}})
        if job.model == "infogan":
            rows[-1].update(code_metrics(out / job.name))
        rows[-1]["seconds"] = seconds
        print(f"{job.name}: done in {seconds:.0f} s", file=sys.stderr, flush=True)
    return rows


def _images_per_step(result: dict[str, Any]) -> int:
    train = result.get("config", {}).get("train", {})
    return int(train.get("batch_size", 0)) * int(train.get("n_critic", 1))


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| model | seed | step | images | FID | KID | IS | MI (nats) | code acc. (generated) | code acc. (real) |",
             "|---|---|---|---|---|---|---|---|---|---|"]

    def number(value: Any, digits: int = 4) -> str:
        return "" if value is None else f"{value:.{digits}g}"

    for row in rows:
        label = f"{row['step']} (untrained)" if row.get("untrained") else str(row["step"])
        lines.append(f"| {row['model']} | {row['seed']} | {label} | {row.get('images', '')} | {number(row['fid'])} | "
                     f"{number(row['kid'])} | {number(row['isc'], 3)} | {number(row.get('mi'), 3)} | "
                     f"{number(row.get('generated_accuracy'), 3)} | {number(row.get('real_accuracy'), 3)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="infogan,lapgan,lapgan-cc",
                        help="comma-separated models (default infogan,lapgan,lapgan-cc)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per model (default 1)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the leaderboard's image budget")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-infogan-lapgan", help="runs and results.json")
    parser.add_argument("--runs-only", nargs="*", type=Path, help="only measure InfoGAN's codes in these trained runs")
    parser.add_argument("--cache-dir", type=Path, help="reference-statistics cache")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    if args.runs_only:
        for run in args.runs_only:
            print(json.dumps({"run": str(run), **code_metrics(run)}, indent=2))
        return
    args.out.mkdir(parents=True, exist_ok=True)
    rows = train_and_bench(args.models.split(","), args.seeds, args.scale, args.out,
                           str(args.cache_dir) if args.cache_dir else None)
    (args.out / "results.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(markdown(rows))


if __name__ == "__main__":
    main()
