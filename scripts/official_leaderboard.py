"""Train, benchmark and publish the official leaderboard for the offline protocols.

    .venv/bin/python scripts/official_leaderboard.py                 # every installed official plugin
    .venv/bin/python scripts/official_leaderboard.py --models dcgan   # some of them

For each installed official model (the catalogue's ``official = true`` entries): train it on the embedded
data with its reference config (``configs/<model>-<dataset>.toml`` when it exists, else the budget below),
benchmark the run under the dataset's offline protocol (``digits`` for noise-to-image models,
``shapes-paired`` / ``shapes-unpaired`` for translation models) and record it in the repository's
leaderboard (``docs/leaderboard.sqlite``, append-only; a result already recorded is kept as it is).  Then
``docs/leaderboard.md`` and ``docs/leaderboard.html`` are regenerated from the whole database.

Budgets are CPU-sized (minutes on 2 cores), so these are short-training numbers, comparable with each other
under the same protocol hash, not the papers' numbers.  A run whose directory (named after the model, the
steps and a hash of the config file and overrides) already holds its final checkpoint is benchmarked
without retraining.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# model -> (dataset, steps, config overrides used when configs/<model>-<dataset>.toml does not exist)
BUDGETS: dict[str, tuple[str, int, list[str]]] = {
    "dcgan": ("digits", 500, ["model.image_size=32", "model.channels=1", "model.ngf=32", "model.ndf=32"]),
    "wgan-gp": ("digits", 1500, ["model.image_size=32", "model.channels=1", "model.ngf=16", "model.ndf=16",
                                "model.latent_dim=64", "train.batch_size=32"]),
    "pix2pix": ("shapes", 1000, ["model.image_size=32", "model.ngf=32", "model.ndf=32", "train.batch_size=16"]),
    "cyclegan": ("shapes", 600, ["model.image_size=32", "model.ngf=16", "model.ndf=16", "model.n_blocks=3",
                                 "train.batch_size=4"]),
}
DEFAULT_BUDGET = 300


def official_models() -> list[str]:
    """Installed models of the catalogue's official plugins, in catalogue order."""
    import ganzoo

    installed = set(ganzoo.list_models())
    return [model for entry in ganzoo.load_catalogue().entries if entry.official
            for model in entry.models if model in installed]


def plan(model: str, steps: int | None) -> tuple[str, int, Path | None, list[str]]:
    """Dataset, steps, reference config file (if any) and overrides for ``model``."""
    import ganzoo

    task = ganzoo.get_model(model).task
    default_dataset = "shapes" if task.endswith("image-to-image") else "digits"
    dataset, budget, overrides = BUDGETS.get(model, (default_dataset, DEFAULT_BUDGET, ["model.image_size=32"]))
    config = ROOT / "configs" / f"{model}-{dataset}.toml"
    if config.is_file():
        overrides = []
    elif dataset == "digits" and "model.channels=1" not in overrides:
        overrides = [*overrides, "model.channels=1"]
    return dataset, steps or budget, config if config.is_file() else None, overrides


def train_run(model: str, runs: Path, steps: int | None) -> Path:
    """Train ``model`` (or reuse a finished run of the same recipe and budget); returns the run directory."""
    from ganzoo.checkpoint import list_checkpoints
    from ganzoo.trainer import train

    dataset, steps, config, overrides = plan(model, steps)
    recipe = (config.read_text(encoding="utf-8") if config else "") + "\n".join(overrides)
    out = runs / f"{model}-{dataset}-{steps}steps-{hashlib.sha256(recipe.encode()).hexdigest()[:8]}"
    if out.is_dir() and any(path.name == f"step-{steps:06d}" for path in list_checkpoints(out)):
        print(f"{model}: reusing {out}", file=sys.stderr)
        return out
    started = time.perf_counter()
    print(f"{model}: training {steps} steps on {dataset} "
          f"({config.relative_to(ROOT) if config else 'budget overrides ' + ' '.join(overrides)})", file=sys.stderr)
    train(model, out, dataset=dataset, steps=steps, config=config, overrides=overrides,
          checkpoint_every=steps, sample_every=steps, progress=False)
    print(f"{model}: trained in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return out


def bench_and_record(run_dir: Path, board: object, metrics: list[str], cache: Path | None) -> None:
    """Benchmark ``run_dir`` under its dataset's preset and record it (once)."""
    from ganzoo.leaderboard import DuplicateResultError
    from ganzoo.metrics.bench import metrics_summary, prepare, run_benchmark

    target, protocol, extractor = prepare(run_dir)
    result = run_benchmark(target, protocol, extractor, metrics, cache)
    try:
        entry_id = board.record(result)  # type: ignore[attr-defined]
        print(f"{target.spec.name}: recorded #{entry_id}: {metrics_summary(result)}", file=sys.stderr)
    except DuplicateResultError as exc:
        print(f"{target.spec.name}: {exc}", file=sys.stderr)


def floors(entries: list, cache: Path | None) -> list[str]:
    """One Markdown line per protocol on the board: the scores of real training images (the floor)."""
    from ganzoo.metrics.bench import split_metrics
    from ganzoo.metrics.extractors import resolve_extractor
    from ganzoo.metrics.protocol import Protocol

    protocols = {entry.protocol_hash: Protocol(**entry.protocol) for entry in entries}
    lines = []
    for digest, protocol in protocols.items():
        extractor = resolve_extractor(protocol.feature_extractor)
        if extractor.weights_sha256 != protocol.weights_sha256:
            lines.append(f"- `{protocol.name}` (`{digest}`): its feature-extractor weights are no longer installed")
            continue
        real = split_metrics(protocol, extractor, "train", ("isc", "fid", "kid"), cache)
        lines.append(f"- `{protocol.name}` (`{digest}`): real {protocol.dataset} train images score "
                     f"FID {real['fid']:.3g}, KID {real['kid']:.3g}, IS {real['isc']:.3g}")
    return lines


def write_docs(board: object, floor_lines: list[str], docs: Path = DOCS) -> None:
    from ganzoo.fileio import atomic_write_text
    from ganzoo.leaderboard import render

    entries = board.entries()  # type: ignore[attr-defined]
    header = [
        "# Official leaderboard (offline protocols)",
        "",
        "Generated by `scripts/official_leaderboard.py` from `docs/leaderboard.sqlite`: every installed official",
        "plugin trained on the embedded data with a CPU budget of minutes (see the script), then `ganzoo bench`.",
        "Results are ranked only within one protocol (same hash). These are short-training numbers for",
        "comparing implementations under identical conditions, not the papers' results.",
        "An interactive version (sortable, filterable, with samples) is `docs/leaderboard.html`.",
        "",
        "Real-data floors (held-out split against the train split, same protocol):",
        "",
        *floor_lines,
        "",
    ]
    atomic_write_text(docs / "leaderboard.md", "\n".join(header) + "\n" + render(entries, "markdown"))
    page = render(entries, "html").replace("<title>ganzoo leaderboard</title>",
                                           "<title>ganzoo official leaderboard</title>")
    atomic_write_text(docs / "leaderboard.html", page)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated models (default: every installed official model)")
    parser.add_argument("--steps", type=int, help="train every model for this many steps (default: its budget)")
    parser.add_argument("--runs", type=Path, default=Path("runs/official"),
                        help="where runs are trained (relative paths: to the repository root)")
    parser.add_argument("--db", type=Path, default=DOCS / "leaderboard.sqlite", help="the official leaderboard file")
    parser.add_argument("--metrics", default="isc,fid,kid,prc")
    parser.add_argument("--cache-dir", type=Path, help="reference-statistics cache")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where leaderboard.md / .html are written")
    args = parser.parse_args()
    args.db, args.docs = args.db.resolve(), args.docs.resolve()
    args.cache_dir = args.cache_dir.resolve() if args.cache_dir else None
    os.chdir(ROOT)  # recorded run paths stay relative to the repository

    from ganzoo.leaderboard import Leaderboard
    from ganzoo.metrics.bench import parse_metrics

    models = args.models.split(",") if args.models else official_models()
    board = Leaderboard(args.db)
    for model in models:
        run_dir = train_run(model, args.runs, args.steps)
        bench_and_record(run_dir, board, parse_metrics(args.metrics), args.cache_dir)
    write_docs(board, floors(board.entries(), args.cache_dir), args.docs)
    print(f"wrote {args.docs / 'leaderboard.md'} and {args.docs / 'leaderboard.html'}", file=sys.stderr)


if __name__ == "__main__":
    main()
