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
    bench.add_argument("--metrics", default="isc,fid,kid,prc", help="comma-separated subset of isc,fid,kid,prc")
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
    flags = {"num_samples": args.num_samples, "feature_extractor": args.feature_extractor, "seed": args.seed}
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
    from ganzoo.metrics.bench import metrics_summary, parse_metrics, prepare, run_benchmark
    from ganzoo.metrics.protocol import ProtocolError

    metrics = parse_metrics(args.metrics)
    try:
        target, protocol, extractor = prepare(
            args.target, args.protocol, args.dataset, args.weights, args.checkpoint, args.overrides, args.device,
            **_protocol_changes(args),
        )
    except (ProtocolError, TypeError) as exc:
        raise CommandError(str(exc)) from None
    board = Leaderboard(args.db) if args.record else None
    if board is not None:  # refuse before spending minutes on a result that cannot be recorded
        expected = metrics + (["paired"] if protocol.task == "paired-image-to-image" else [])
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
        for key, value in result.metrics.items():
            print(f"  {key:10s} {value:.6g}")
        print(f"  evaluated in {result.eval_seconds:.1f} s", file=sys.stderr)
    if board is not None:
        entry_id = board.record(result)
        print(f"recorded as entry #{entry_id} in {board.path} ({metrics_summary(result)})", file=sys.stderr)
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
