"""Regenerate the official leaderboard from scratch: equal budgets, several seeds, learning curves.

    .venv/bin/python scripts/official_leaderboard.py                    # everything (about 35 min on 2 cores)
    .venv/bin/python scripts/official_leaderboard.py --models dcgan     # some models (added to the board)
    .venv/bin/python scripts/official_leaderboard.py --render-only      # only rewrite the docs from the database

Every installed official plugin (the catalogue's ``official = true`` entries) whose model can be configured
for its task's offline protocol (``digits`` for noise-to-image models, ``shapes-paired`` /
``shapes-unpaired`` for translation models) is trained with **its own defaults** (the paper's
hyper-parameters its plugin ships) under one **budget rule** (see ``docs/leaderboard.md``): the same
number of real training images per protocol for every model (steps = images / (batch size x batches
per step)), at the protocol's resolution, for each of ``--seeds`` seeds.  Each run is benchmarked at
step 0 (untrained), at evenly spaced checkpoints and at its end; all of it is recorded in a fresh
``docs/leaderboard.sqlite`` (the old one is replaced once the new one is complete), and
``docs/leaderboard.md``, ``docs/leaderboard.html`` and one learning-curve SVG per protocol are written.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import shutil
import signal
import sqlite3
import sys
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# the budget rule: real training images per model, per protocol (one protocol's models always get the same)
# (digits: 200 DCGAN steps at batch 64; shapes: 4 epochs of the 144 shapes pairs at the papers' batch 1), sized
# so that 9 models x 3 seeds fit about an hour on 2 CPU cores
BUDGET_IMAGES = {"digits": 12_800, "shapes-paired": 576, "shapes-unpaired": 576}
# the one architecture change, for every model that has these settings: the papers' 64 is ~4x the compute
WIDTHS = {"ngf": 32, "ndf": 32}
SEEDS = 3
# models whose sampler is itself a long computation are benchmarked at the end of their budget only:
# ppgn's 100-step MCMC chains make one 1,000-sample benchmark cost minutes of CPU, not seconds
FINAL_ONLY = ("ppgn",)
CURVE_POINTS = 2  # benchmarks per run besides step 0: half way and at the end of the budget
METRICS = ("isc", "fid", "kid", "prc")
# a model counts as learning when its final FID is at most this fraction of its untrained FID, and as
# competitive when within this factor of the best model's FID on its protocol
BEATS_UNTRAINED = 0.5
WITHIN_BEST = 3.0


@dataclass
class Job:
    """One training run of the official board: a model, its protocol's dataset, a seed and its budget."""

    model: str
    dataset: str
    protocol: str
    seed: int
    steps: int
    overrides: list[str] = field(default_factory=list)
    cost: float = 0.0  # relative CPU cost of the run, to start the longest first
    final_only: bool = False  # benchmark the last checkpoint only (no curve points, no untrained baseline)

    @property
    def name(self) -> str:
        return f"{self.model}-seed{self.seed}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def official_models(every_variant: bool = False) -> list[str]:
    """Installed models of the catalogue's official plugins, in catalogue order: each plugin's first (main)
    model, or with ``every_variant`` also its variants (``lapgan-cc``, ``sagan-uncond``)."""
    import ganzoo

    installed = set(ganzoo.list_models())
    return [model for entry in ganzoo.load_catalogue().entries if entry.official
            for model in (entry.models if every_variant else entry.models[:1]) if model in installed]


def protocol_for(task: str) -> tuple[str, str]:
    """(protocol preset, training dataset) of a model task."""
    if task == "paired-image-to-image":
        return "shapes-paired", "shapes-paired"
    if task == "unpaired-image-to-image":
        return "shapes-unpaired", "shapes-unpaired"
    return "digits", "digits"


def model_settings(model: str, dataset: str, fields: Any) -> list[str]:
    """The architecture: ``configs/<model>-<dataset>.toml``'s ``[model]`` section when the model has one (its
    CPU-sized network and sampler), else the plugin's defaults with the shared widths; never its ``[train]``."""
    import tomllib

    path = ROOT / "configs" / f"{model}-{dataset}.toml"
    if path.is_file():
        section = tomllib.loads(path.read_text(encoding="utf-8")).get("model", {})
        return [f"model.{key}={_toml_value(value)}" for key, value in section.items()]
    return [f"model.{name}={width}" for name, width in WIDTHS.items() if name in fields]


def _toml_value(value: Any) -> str:
    import json

    return json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def plan(model: str, seed: int, images: dict[str, int], final_only: tuple[str, ...] = FINAL_ONLY) -> Job:
    """The run of ``model`` under the budget rule: its defaults at the protocol's resolution and channels.

    Raises :class:`ganzoo.config.ConfigError` (or ``ValueError``) when the model cannot be configured so.
    """
    import ganzoo
    from ganzoo.config import resolve_config
    from ganzoo.metrics.protocol import get_preset

    spec = ganzoo.get_model(model)
    protocol, dataset = protocol_for(spec.task)
    preset = get_preset(protocol)
    overrides = model_settings(model, dataset, spec.config_class.model_fields)
    overrides += [f"model.image_size={preset.image_size}", f"model.channels={preset.channels}", f"train.seed={seed}"]
    config = resolve_config(spec, overrides=[*overrides, f"data.dataset={dataset}"])
    per_step = config.train.batch_size * config.train.n_critic  # real images drawn by one training step
    steps = max(CURVE_POINTS, math.ceil(images[protocol] / per_step / CURVE_POINTS) * CURVE_POINTS)
    # rough seconds on a busy 2-core CPU, only to start the longest runs first: translation models cost far more
    # per image (two generators, batch size 1), critic steps with a penalty more, iterative samplers more to bench
    per_image = (1.5 if spec.image_to_image else 0.03) * (2.0 if config.train.n_critic > 1 else 1.0)
    benches = 1 if model in final_only else CURVE_POINTS + (seed == 0)
    bench = benches * 15.0 * max(1.0, getattr(config.model, "mcmc_steps", 0) / 5)
    cost = steps * per_step * per_image + bench
    return Job(model, dataset, protocol, seed, steps, overrides, cost, model in final_only)


def run_job(job: Job, runs: str, cache: str | None, threads: int) -> list[dict[str, Any]]:
    """Train one run, then benchmark it untrained, at each curve checkpoint and at the end (in a worker)."""
    import torch

    torch.set_num_threads(threads)
    from ganzoo.checkpoint import list_checkpoints
    from ganzoo.metrics.bench import load_target, prepare, run_benchmark, untrained_target
    from ganzoo.trainer import train

    out = Path(runs) / job.name
    if out.exists():
        shutil.rmtree(out)
    started = time.perf_counter()
    every = job.steps // CURVE_POINTS
    train(job.model, out, dataset=job.dataset, steps=job.steps,
          overrides=[*job.overrides, f"train.keep_checkpoints={CURVE_POINTS}"],
          checkpoint_every=every, sample_every=job.steps, progress=False, tensorboard=False)
    log(f"{job.name}: trained {job.steps} steps in {time.perf_counter() - started:.0f} s")
    results = []
    checkpoints = list_checkpoints(out)[-1:] if job.final_only else list_checkpoints(out)
    _, protocol, extractor = prepare(out, protocol=job.protocol, checkpoint=checkpoints[0].name)
    for index, checkpoint in enumerate(checkpoints):
        target = load_target(out, checkpoint=checkpoint.name)
        last = index == len(checkpoints) - 1
        result = run_benchmark(target, protocol, extractor, METRICS, cache, sample_grid=last, require_eligible=True)
        results.append(result.model_dump())
        if index == 0 and job.seed == 0 and not job.final_only:  # step 0: the same config, untrained (one seed: it is only the baseline)
            untrained = untrained_target(target.spec, target.config)
            results.append(run_benchmark(untrained, protocol, extractor, METRICS, cache, sample_grid=False)
                           .model_dump())
        log(f"{job.name}: step {target.train_steps}: FID {result.metrics['fid']:.4g}")
    return results


def floors(entries: list, cache: Path | None) -> list[str]:
    """One Markdown line per protocol on the board: the scores of real training images (the floor)."""
    from ganzoo.metrics.bench import split_metrics
    from ganzoo.metrics.extractors import resolve_extractor
    from ganzoo.metrics.protocol import Protocol
    from ganzoo.metrics.reference import source_key

    protocols = {entry.protocol_hash: Protocol.from_record(entry.protocol) for entry in entries}
    lines = []
    for digest, protocol in protocols.items():
        extractor = resolve_extractor(protocol.feature_extractor)
        if extractor.weights_sha256 != protocol.weights_sha256:
            lines.append(f"- `{protocol.name}` (`{digest}`): its feature-extractor weights are no longer installed")
            continue
        real = split_metrics(protocol, extractor, "train", ("isc", "fid", "kid"), cache)
        line = (f"- `{protocol.name}` (`{digest}`): real {protocol.dataset} train images score "
                f"FID {real['fid']:.3g}, KID {real['kid']:.3g}, IS {real['isc']:.3g}")
        if protocol.image_to_image:  # a model that returns its input unchanged: translation must beat this
            copied = split_metrics(protocol, extractor, protocol.split, ("isc", "fid", "kid", "prc"), cache,
                                   field=source_key(protocol))
            line += (f"; the untranslated held-out inputs (a model that copies its input) score FID "
                     f"{copied['fid']:.3g}, KID {copied['kid']:.3g}, recall {copied['recall']:.2g}")
        lines.append(line)
    return lines


def checks(entries: list) -> list[str]:
    """Markdown lines: each model's untrained -> trained FID, and its distance from its protocol's best."""
    from ganzoo.leaderboard.render import ranked_series
    from ganzoo.leaderboard.store import iter_protocol_groups

    lines = ["| protocol | model | untrained FID | trained FID | trained / untrained | / best on protocol | verdict |",
             "|---|---|---|---|---|---|---|"]
    for _, group in iter_protocol_groups(entries):
        series = ranked_series(group)
        best = min((s.final.mean("fid") for s in series if s.final.mean("fid") is not None), default=None)
        for s in series:
            start, final = s.points[0].mean("fid"), s.final.mean("fid")
            if final is not None and best and s.points[0].step != 0:
                lines.append(f"| {group[0].protocol_name} | {s.model} | | {final:.4g} | | {final / best:.2f} | "
                             "no untrained baseline (benchmarked at the end only) |")
            if start is None or final is None or s.points[0].step != 0 or not best:
                continue
            learns, close = final <= BEATS_UNTRAINED * start, final <= WITHIN_BEST * best
            verdict = "ok" if learns and close else ("does not beat its untrained baseline" if not learns
                                                     else f"more than {WITHIN_BEST:g}x the best FID")
            lines.append(f"| {group[0].protocol_name} | {s.model} | {start:.4g} | {final:.4g} | "
                         f"{final / start:.2f} | {final / best:.2f} | {verdict} |")
    return lines


def budget_lines(entries: list) -> list[str]:
    """Markdown lines: each model's budget as run (steps, batch, batches per step, images)."""
    from ganzoo.leaderboard.series import build_series, images_seen
    from ganzoo.leaderboard.store import iter_protocol_groups

    lines = ["| protocol | model | steps | batch size | batches per step | real images seen | seeds |",
             "|---|---|---|---|---|---|---|"]
    for _, group in iter_protocol_groups(entries):
        for s in build_series(group):
            train = s.first.config.get("train", {})
            lines.append(f"| {group[0].protocol_name} | {s.model} | {s.first.train_steps} | {train.get('batch_size')} "
                         f"| {train.get('n_critic')} | {images_seen(s.first)} | {len(s.final.entries)} |")
    return lines


def write_docs(board: Any, floor_lines: list[str], docs: Path = DOCS) -> None:
    """docs/leaderboard.md, .html and one learning-curve SVG per protocol, from the whole database."""
    from ganzoo.fileio import atomic_write_text
    from ganzoo.leaderboard import render
    from ganzoo.leaderboard.render import protocol_curves_svg
    from ganzoo.leaderboard.store import iter_protocol_groups

    entries = board.entries()
    figures = []
    for _, group in iter_protocol_groups(entries):
        svg = protocol_curves_svg(group)
        if svg:
            name = f"leaderboard-{group[0].protocol_name}.svg"
            atomic_write_text(docs / name, svg + "\n")
            figures += [f"![{group[0].protocol_name} learning curves]({name})", ""]
    budgets = ", ".join(f"`{name}`: {images:,} images" for name, images in BUDGET_IMAGES.items())
    header = [
        "# Official leaderboard (offline protocols)",
        "",
        "Generated from scratch by `scripts/official_leaderboard.py` (one command) into `docs/leaderboard.sqlite`.",
        "Results are ranked only within one protocol (same hash). These are short CPU-budget numbers for",
        "comparing implementations under identical conditions, not the papers' results.",
        "An interactive version (sortable, filterable, with samples and curves) is `docs/leaderboard.html`.",
        "",
        "## Budget rule",
        "",
        f"Every official model on a protocol sees **the same number of real training images** ({budgets}),",
        "counted as steps x batch size x batches drawn per step (WGAN-GP's five critic batches per generator",
        "step count). Images seen, unlike wall-clock time, is exact and reproducible on a shared CPU.",
        "Everything else is the plugin's defaults, i.e. the paper's hyper-parameters (loss, learning rates,",
        "betas, batch size, `n_critic`, schedules), at the protocol's resolution (32 px; one channel for",
        "digits). The network is the one a model's `configs/<model>-digits.toml` (or its task's dataset) sizes",
        "for the CPU when it has such a file (its `[model]` section only; never its training settings), else",
        f"the plugin's with one concession for all: widths {', '.join(f'`{k}` = {v}' for k, v in WIDTHS.items())}.",
        f"Each model is trained with seeds {', '.join(str(seed) for seed in range(SEEDS))}; tables show the mean ±",
        "sample standard deviation over the seeds at the end of the budget and rank on the mean. Each run is",
        f"benchmarked after every 1/{CURVE_POINTS} of its budget, and seed 0's model also untrained (step 0, the",
        f"baseline): the learning curves. Exception: {', '.join(FINAL_ONLY)} (an iterative sampler: one benchmark",
        "costs minutes of CPU) is benchmarked at the end only, so it has no curve.",
        "",
        *budget_lines(entries),
        "",
        "## Checks",
        "",
        f"A model learns when its final FID is at most {BEATS_UNTRAINED:g} x its untrained FID (seed 0 untrained, same",
        f"config), and is competitive when within {WITHIN_BEST:g} x the best mean FID on its protocol.",
        "",
        *checks(entries),
        "",
        "Why wgan-gp and cyclegan scored as they did on the earlier board, and what the numbers here mean:",
        "[benchmarking.md, Official results](benchmarking.md#official-results-what-the-numbers-mean).",
        "",
        "Real-data floors (held-out split against the train split, same protocol):",
        "",
        *floor_lines,
        "",
        "## Learning curves",
        "",
        "Mean over seeds (whiskers ± std) against real training images seen; step 0 is seed 0's untrained model.",
        "",
        *figures,
        "## Results",
        "",
    ]
    atomic_write_text(docs / "leaderboard.md", "\n".join(header) + "\n" + render(entries, "markdown"))
    page = render(entries, "html").replace("<title>ganzoo leaderboard</title>",
                                           "<title>ganzoo official leaderboard</title>")
    atomic_write_text(docs / "leaderboard.html", page)


def eligible_jobs(models: list[str], seeds: int, images: dict[str, int],
                  final_only: tuple[str, ...] = FINAL_ONLY) -> list[Job]:
    """Every (model, seed) run; models that cannot be configured for their protocol are skipped, said so."""
    jobs = []
    for model in models:
        try:
            jobs += [plan(model, seed, images, final_only) for seed in range(seeds)]
        except (ValueError, LookupError) as exc:  # ConfigError, unknown model, ...
            log(f"{model}: skipped, it cannot be configured for its offline protocol: {exc}")
    return sorted(jobs, key=lambda job: -job.cost)  # longest first: the pool ends when the last short one does


def merge_boards(target: Path, sources: list[Path]) -> int:
    """Copy every result of the ``sources`` leaderboard files into ``target`` (regenerations split over several
    processes or machines); results already there (same checkpoint, protocol and metrics) are kept once.
    Returns the number of results added."""
    from ganzoo.leaderboard import Leaderboard

    Leaderboard(target).check_writable()  # creates the file or upgrades its schema
    added = 0
    with closing(sqlite3.connect(target)) as connection:
        columns = [row[1] for row in connection.execute("PRAGMA table_info(results)") if row[1] != "id"]
        names = ", ".join(columns)
        for number, source in enumerate(sources):
            Leaderboard(source).check_writable()  # the same schema version on both sides
            connection.execute(f"ATTACH DATABASE ? AS source{number}", (str(source),))
            before = connection.total_changes
            with connection:
                connection.execute(f"INSERT OR IGNORE INTO results ({names}) SELECT {names} "
                                   f"FROM source{number}.results ORDER BY id")
            added += connection.total_changes - before
            connection.execute(f"DETACH DATABASE source{number}")
    return added


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated models (default: each installed official plugin's main model)")
    parser.add_argument("--every-variant", action="store_true",
                        help="with the default models, also the official plugins' variants (lapgan-cc, sagan-uncond)")
    parser.add_argument("--skip", default="", help="runs not to train, e.g. biggan-lite-seed0 (already recorded)")
    parser.add_argument("--seeds", type=int, default=SEEDS, help=f"seeds per model (default {SEEDS})")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every budget (e.g. 0.1 for a smoke test)")
    parser.add_argument("--jobs", type=int, default=2, help="runs trained at once (one thread each; default 2)")
    parser.add_argument("--final-only", default=",".join(FINAL_ONLY),
                        help=f"models benchmarked at the end only (default: {','.join(FINAL_ONLY)}; '' for none)")
    parser.add_argument("--runs", type=Path, default=Path("runs/official"), help="where runs are trained")
    parser.add_argument("--db", type=Path, default=DOCS / "leaderboard.sqlite", help="the official leaderboard file")
    parser.add_argument("--add", action="store_true",
                        help="add to the existing database instead of replacing it (re-running some models)")
    parser.add_argument("--merge", type=Path, nargs="+", default=[],
                        help="leaderboard files of partial regenerations to add to --db before rendering")
    parser.add_argument("--render-only", action="store_true", help="only rewrite the docs from the database")
    parser.add_argument("--cache-dir", type=Path, help="reference-statistics cache")
    parser.add_argument("--docs", type=Path, default=DOCS, help="where leaderboard.md / .html / .svg are written")
    args = parser.parse_args()
    args.db, args.docs, args.runs = args.db.resolve(), args.docs.resolve(), (ROOT / args.runs).resolve()
    cache = str(args.cache_dir.resolve()) if args.cache_dir else None
    os.chdir(ROOT)  # recorded run paths stay relative to the repository
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from ganzoo.leaderboard import Leaderboard

    if not args.render_only:
        images = {name: max(1, int(count * args.scale)) for name, count in BUDGET_IMAGES.items()}
        jobs = eligible_jobs(args.models.split(",") if args.models else official_models(args.every_variant), args.seeds, images,
                             tuple(name for name in args.final_only.split(",") if name))
        jobs = [job for job in jobs if job.name not in args.skip.split(",")]
        building = args.db if args.add else args.db.with_name(args.db.name + ".building")
        if not args.add:
            for stale in building.parent.glob(building.name + "*"):
                stale.unlink()
        board = Leaderboard(building)
        log(f"{len(jobs)} runs ({', '.join(sorted({job.model for job in jobs}))}), {args.jobs} at a time")
        started = time.perf_counter()
        context = multiprocessing.get_context("spawn")
        signal.signal(signal.SIGTERM, _interrupt)  # leaving the pool's block terminates its workers
        with context.Pool(args.jobs, maxtasksperchild=1) as pool:
            pending = {job.name: pool.apply_async(run_job, (job, str(args.runs), cache, 1)) for job in jobs}
            done = 0
            while pending:  # record each run as soon as it ends, so an interrupted regeneration keeps them
                finished = [name for name, outcome in pending.items() if outcome.ready()]
                for name in finished:
                    for result in pending.pop(name).get():
                        board.record(result)
                    done += 1
                    log(f"[{done}/{len(jobs)}] {name} recorded ({time.perf_counter() - started:.0f} s so far)")
                time.sleep(0 if finished else 2)
        if not args.add:
            with closing(sqlite3.connect(building)) as connection:  # fold the WAL into the file before moving it
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            for suffix in ("-wal", "-shm"):
                Path(str(building) + suffix).unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                Path(str(args.db) + suffix).unlink(missing_ok=True)
            os.replace(building, args.db)
    if args.merge:
        log(f"merged {merge_boards(args.db, [path.resolve() for path in args.merge])} results into {args.db}")
    board = Leaderboard(args.db)
    write_docs(board, floors(board.entries(), Path(cache) if cache else None), args.docs)
    log(f"wrote {args.docs / 'leaderboard.md'}, leaderboard.html and the learning-curve SVGs")


if __name__ == "__main__":
    main()
