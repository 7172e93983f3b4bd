"""``ganzoo bench`` (metrics under a protocol, optionally recorded) and ``ganzoo leaderboard`` (views)."""

from __future__ import annotations

import argparse
import sys
import tomllib
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bench`` and ``leaderboard`` commands."""
    bench = subparsers.add_parser(
        "bench", help="compute IS / FID / KID / precision-recall of a run or model under a protocol",
        description="Evaluate a trained run directory (latest checkpoint) or an untrained MODEL under an "
        "evaluation protocol, with samples generated in memory and cached reference statistics.",
    )
    bench.add_argument("target", nargs="?", metavar="RUN_DIR|MODEL", help="run directory, or a model name")
    bench.add_argument("--checkpoint", help="checkpoint of the run to evaluate (default: the latest)")
    bench.add_argument("--protocol", help="protocol preset (default: the preset of the run's dataset)")
    bench.add_argument("--dataset", help="reference dataset (picks its preset; default: the run's dataset)")
    bench.add_argument("--metrics", help="comma-separated subset of isc,fid,kid,prc (default: all; a truncation "
                       "sweep: isc,fid)")
    bench.add_argument("--truncation", type=float, help="truncation threshold of the latents (changes the protocol)")
    bench.add_argument("--truncation-sweep", metavar="T1,T2,...",
                       help="benchmark at each threshold ('none': untruncated): IS/FID table and an SVG plot")
    bench.add_argument("--sweep-out", help="SVG file of the sweep (default RUN_DIR/truncation-sweep.svg)")
    bench.add_argument("--num-samples", type=int, help="number of generated samples (changes the protocol)")
    bench.add_argument("--feature-extractor", help="inception-v3-compat, ganzoo-digits-cnn, ganzoo-shapes-cnn, "
                       "timm:<model> (changes the protocol)")
    bench.add_argument("--weights", help="feature-extractor weights file (InceptionV3 .pth, timm weights)")
    bench.add_argument("--seed", type=int, help="sampling seed (changes the protocol)")
    bench.add_argument("--set-protocol", action="append", default=[], metavar="FIELD=VALUE",
                       help="change any protocol field, e.g. kid_subset_size=100 (repeatable)")
    bench.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="config override for an untrained MODEL; for a run only sample.KEY=VALUE, the model's "
                       "sampling settings, recorded in the result's protocol (repeatable)")
    bench.add_argument("--device", default="cpu", help="cpu, cuda, ... (default: cpu)")
    bench.add_argument("--allow-other-plugin", action="store_true",
                       help="load a run trained by another plugin distribution than the one providing its model now")
    bench.add_argument("--cache-dir", help="reference-statistics cache (default: $GANZOO_CACHE_DIR or ~/.cache/ganzoo)")
    bench.add_argument("--json", action="store_true", help="print the result as JSON")
    bench.add_argument("--record", action="store_true", help="append the result to the leaderboard")
    bench.add_argument("--db", help="leaderboard file (default: $GANZOO_LEADERBOARD_DB or ~/.local/share/ganzoo)")
    bench.add_argument("--list-protocols", action="store_true", help="list the protocol presets and exit")
    bench.add_argument("--verbose", action="store_true", help="show torch-fidelity's progress")
    bench.set_defaults(handler=run_bench)

    board = subparsers.add_parser(
        "leaderboard", help="show recorded results, ranked within each protocol",
        description="Show the leaderboard: one ranked table per protocol (results are only compared under "
        "the same protocol hash).",
    )
    board.add_argument("--dataset", help="only this dataset")
    board.add_argument("--protocol", help="only this protocol (name or hash prefix)")
    board.add_argument("--format", default="table", choices=["table", "markdown", "csv", "json", "html"])
    board.add_argument("--out", help="write to this file instead of standard output")
    board.add_argument("--db", help="leaderboard file (default: $GANZOO_LEADERBOARD_DB or ~/.local/share/ganzoo)")
    board.set_defaults(handler=run_leaderboard)


def _protocol_changes(args: argparse.Namespace) -> dict[str, Any]:
    from ganzoo.cli import CommandError

    changes: dict[str, Any] = {}
    for text in args.set_protocol:
        field, sep, raw = text.partition("=")
        if not sep or not field.strip():
            raise CommandError(f"--set-protocol {text!r}: expected FIELD=VALUE")
        try:
            changes[field.strip()] = tomllib.loads(f"v = {raw.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            changes[field.strip()] = raw.strip()
    flags = {"num_samples": args.num_samples, "feature_extractor": args.feature_extractor, "seed": args.seed,
             "truncation": args.truncation}
    changes.update({key: value for key, value in flags.items() if value is not None})
    return changes


def _list_protocols() -> int:
    from ganzoo.metrics.protocol import PRESETS

    for name, preset in PRESETS.items():
        print(f"{name:20s} {preset.dataset}/{preset.split} {preset.image_size}px, {preset.num_samples} samples, "
              f"{preset.task}, {preset.feature_extractor}")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    """Handler of ``ganzoo bench``."""
    from ganzoo.cli import CommandError

    if args.list_protocols:
        return _list_protocols()
    if not args.target:
        raise CommandError("give a run directory or a model name (or --list-protocols)")
    from ganzoo.leaderboard import Leaderboard
    from ganzoo.metrics.bench import companion_metrics, metrics_summary, parse_metrics, prepare, run_benchmark
    from ganzoo.metrics.conditional import split_per_class
    from ganzoo.metrics.protocol import ProtocolError

    if args.truncation is not None and args.truncation <= 0:
        raise CommandError(f"--truncation {args.truncation}: the threshold must be positive (e.g. 0.5)")
    if args.truncation_sweep and (args.record or args.truncation is not None):
        raise CommandError("--truncation-sweep runs one benchmark per threshold: leave out --record and --truncation")
    metrics = parse_metrics(args.metrics if args.metrics or not args.truncation_sweep else "isc,fid")
    try:
        target, protocol, extractor = prepare(
            args.target, args.protocol, args.dataset, args.weights, args.checkpoint, args.overrides, args.device,
            **_protocol_changes(args),
        )
    except (ProtocolError, TypeError) as exc:
        raise CommandError(str(exc)) from None
    if args.truncation_sweep:
        return _run_sweep(args, target, protocol, extractor, metrics)
    board = Leaderboard(args.db) if args.record else None
    if board is not None:  # refuse before spending minutes on a result that cannot be recorded
        board.check_writable()
        expected = metrics + companion_metrics(target.spec, protocol)
        existing = board.find(target.checkpoint_hash, protocol.digest(), expected)
        if existing is not None:
            raise board.duplicate_error(existing, expected)
    result = run_benchmark(target, protocol, extractor, metrics, args.cache_dir, verbose=args.verbose,
                           require_eligible=board is not None)
    if args.json:
        print(result.model_dump_json(indent=2, exclude={"sample_png_base64"}))
    else:
        where = target.run_dir or f"untrained {target.spec.name}"
        print(f"{target.spec.name} ({where}, step {target.train_steps}) under protocol {protocol.name} "
              f"[{protocol.digest()}]: {result.num_samples} samples vs {result.reference_size} reference images "
              f"({protocol.dataset}/{protocol.split}), {protocol.feature_extractor}")
        headline, per_class = split_per_class(result.metrics)
        for key, value in headline.items():
            print(f"  {key:14s} {value:.6g}")
        for key, values in per_class.items():
            print(f"  {key} per class: " + " ".join(f"{k}:{value:.4g}" for k, value in values))
        print(f"  evaluated in {result.eval_seconds:.1f} s", file=sys.stderr)
    if board is not None:
        entry_id = board.record(result)
        print(f"recorded as entry #{entry_id} in {board.path} ({metrics_summary(result)})", file=sys.stderr)
    return 0


def _run_sweep(args: argparse.Namespace, target: Any, protocol: Any, extractor: Any, metrics: list[str]) -> int:
    """``ganzoo bench --truncation-sweep``: one benchmark per threshold, a table and an SVG plot."""
    import json
    from pathlib import Path

    from ganzoo.cli import CommandError
    from ganzoo.fileio import atomic_write_text
    from ganzoo.metrics.conditional import parse_truncations, sweep_rows, sweep_svg, sweep_table, truncation_sweep

    try:
        truncations = parse_truncations(args.truncation_sweep)
        points = truncation_sweep(target, protocol, extractor, truncations, metrics, args.cache_dir)
        svg = sweep_svg(points, f"{target.spec.name}: truncation trade-off ({protocol.name})")
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    out = Path(args.sweep_out) if args.sweep_out else Path(target.run_dir or ".") / "truncation-sweep.svg"
    atomic_write_text(out, svg)
    if args.json:
        print(json.dumps(sweep_rows(points), indent=2))
    else:
        sys.stdout.write(sweep_table(points))
    print(f"wrote the trade-off plot to {out}", file=sys.stderr)
    return 0


def run_leaderboard(args: argparse.Namespace) -> int:
    """Handler of ``ganzoo leaderboard``."""
    from ganzoo.fileio import atomic_write_text
    from ganzoo.leaderboard import Leaderboard, render

    board = Leaderboard(args.db)
    text = render(board.entries(dataset=args.dataset, protocol=args.protocol), args.format)
    if args.out:
        atomic_write_text(args.out, text)
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
