"""SAGAN and BigGAN-lite on digits: class accuracy of their samples, IS / FID / KID and intra-FID.

    .venv/bin/python benchmarks/conditional_digits.py [--models sagan,biggan-lite] [--steps N] [--out DIR]
                                                      [--sweep 0.5,1,1.5,2] [--json FILE]

Each model is trained with ``configs/<model>-digits.toml`` (CPU-sized networks; ``--steps`` overrides its step
count), then benchmarked under the ``digits`` protocol (1,000 samples, labels 0..9 in turn, the shipped
``ganzoo-digits-cnn``): IS, FID, KID, intra-FID (per-class FID against the held-out digits of that class) and the
class accuracy of the samples (how often the classifier recognises a sample of class k as k), overall and per
class.  ``--sweep`` adds a truncation sweep (IS/FID per threshold) of every run.  A measurement, not a test:
minutes of CPU per model.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def train_run(model: str, out: Path, steps: int | None) -> float:
    """Train ``model`` on digits with its config file; returns the wall time in seconds."""
    from ganzoo.trainer import train

    started = time.perf_counter()
    overrides = [f"train.steps={steps}"] if steps else []
    train(model, out, config=ROOT / "configs" / f"{model}-digits.toml", overrides=[*overrides, "train.progress=false"])
    return time.perf_counter() - started


def evaluate(run_dir: Path, sweep: str | None) -> dict[str, Any]:
    """Metrics of a run under the digits protocol (and its truncation sweep)."""
    from ganzoo.metrics.bench import prepare, run_benchmark
    from ganzoo.metrics.conditional import parse_truncations, sweep_rows, truncation_sweep

    target, protocol, extractor = prepare(run_dir, dataset="digits")
    result = run_benchmark(target, protocol, extractor, ("isc", "fid", "kid"), sample_grid=False)
    report: dict[str, Any] = {"step": target.train_steps, "protocol": protocol.name, "metrics": result.metrics}
    if sweep:
        points = truncation_sweep(target, protocol, extractor, parse_truncations(sweep), ("isc", "fid"))
        report["sweep"] = sweep_rows(points)
    return report


def markdown(reports: dict[str, dict[str, Any]]) -> str:
    """The results as Markdown tables: headline metrics, then per-class accuracy."""
    from ganzoo.metrics.conditional import split_per_class

    lines = ["| model | steps | train s | IS | FID | KID | intra-FID | class accuracy |", "|---|---|---|---|---|---|---|---|"]
    per_class_rows = []
    for model, report in reports.items():
        headline, per_class = split_per_class(report["metrics"])
        lines.append(f"| {model} | {report['step']} | {report['train_seconds']:.0f} | {headline['isc']:.3f} | "
                     f"{headline['fid']:.2f} | {headline['kid']:.4f} | {headline['intra_fid']:.2f} | "
                     f"{headline['class_accuracy']:.3f} |")
        accuracy = dict(per_class["class_accuracy"])
        per_class_rows.append(f"| {model} | " + " | ".join(f"{accuracy[k]:.2f}" for k in sorted(accuracy)) + " |")
    lines += ["", "| model | " + " | ".join(str(k) for k in range(10)) + " |", "|---" * 11 + "|", *per_class_rows]
    for model, report in reports.items():
        if "sweep" in report:
            lines += ["", f"{model} truncation sweep:", "", "| truncation | IS | FID | intra-FID | class accuracy |",
                      "|---|---|---|---|---|"]
            for row in report["sweep"]:
                name = "none" if row["truncation"] is None else f"{row['truncation']:g}"
                lines.append(f"| {name} | {row['isc']:.3f} | {row['fid']:.2f} | {row.get('intra_fid', float('nan')):.2f} "
                             f"| {row.get('class_accuracy', float('nan')):.3f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="sagan,biggan-lite")
    parser.add_argument("--steps", type=int, help="train steps (default: the config file's)")
    parser.add_argument("--out", type=Path, default=Path("runs/conditional-digits"), help="where the runs go")
    parser.add_argument("--sweep", help="truncation thresholds to sweep, e.g. 0.5,1,1.5,2,none")
    parser.add_argument("--json", type=Path, help="also write the reports as JSON")
    args = parser.parse_args()

    reports: dict[str, dict[str, Any]] = {}
    for model in args.models.split(","):
        run_dir = args.out / model
        seconds = train_run(model, run_dir, args.steps)
        reports[model] = {**evaluate(run_dir, args.sweep), "train_seconds": seconds}
        print(f"{model}: trained in {seconds:.0f} s; {json.dumps(reports[model]['metrics'])}", flush=True)
    print(markdown(reports))
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
