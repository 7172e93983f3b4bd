"""``ganzoo train`` and ``ganzoo sample``: train a model into a run directory, draw images from one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ganzoo.cli import CommandError

INTERRUPTED_STATUS = 130  # the shell's convention for a run stopped by Ctrl-C


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``train`` and ``sample`` commands."""
    train = subparsers.add_parser(
        "train",
        help="train a model into a run directory",
        description="Train MODEL (or continue a run with --resume). The run directory gets config.toml, "
        "checkpoints/, samples/*.png and metrics.jsonl. Flags override the --config file; --set overrides both.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  ganzoo train dcgan --config configs/dcgan-digits.toml --out runs/demo\n"
        "  ganzoo train wgan-gp --dataset digits --steps 2000 --set model.image_size=32 --set model.channels=1\n"
        "  ganzoo train dcgan --dataset path/to/images --precision bf16 --channels-last\n"
        "  ganzoo train --resume runs/demo --steps 4000\n"
        "  ganzoo train --list-datasets",
    )
    train.add_argument("model", nargs="?", help="model name (see `ganzoo list`)")
    train.add_argument("--dataset", help="dataset name or folder path (see --list-datasets); default digits")
    train.add_argument("--data-root", help="folder holding torchvision datasets (read offline, downloaded into online)")
    train.add_argument("--config", type=Path, help="run TOML file with [model], [train] and [data] sections")
    train.add_argument("--set", dest="overrides", action="append", default=[], metavar="SECTION.KEY=VALUE",
                       help="override one setting, e.g. --set model.ngf=32 (repeatable)")
    train.add_argument("--steps", type=int, help="train until this many generator steps")
    train.add_argument("--batch-size", type=int, help="images per batch (per process)")
    train.add_argument("--loss", help="adversarial loss (see `ganzoo info --losses`)")
    train.add_argument("--out", type=Path, help="run directory (default runs/MODEL-TIMESTAMP)")
    train.add_argument("--seed", type=int, help="random seed (CPU runs are reproducible)")
    train.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="where to train (default auto)")
    train.add_argument("--allow-other-plugin", action="store_true",
                       help="load a run trained by another plugin distribution than the one providing its model now")
    train.add_argument("--precision", choices=["fp32", "bf16", "fp16"], help="autocast precision (default fp32)")
    train.add_argument("--channels-last", action="store_true", default=None, help="channels-last memory format")
    train.add_argument("--no-progress", action="store_true", help="no progress bar (metrics.jsonl is still written)")
    train.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue the run in RUN_DIR from its latest checkpoint")
    train.add_argument("--list-datasets", action="store_true", help="list the dataset names --dataset accepts")
    train.set_defaults(handler=run_train)

    sample = subparsers.add_parser(
        "sample",
        help="draw images from a trained run",
        description="Write a grid PNG (--out FILE.png) or a folder of PNGs (--out DIR) from a run's latest "
        "(or --checkpoint) checkpoint. --traverse and --interpolate write latent grids (see `ganzoo info MODEL` "
        "for a model's latents).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  ganzoo sample runs/demo --num 16 --seed 3\n"
        "  ganzoo sample runs/demo --latent z=0.5                  # fix a latent (all its dims, or d1,d2,...)\n"
        "  ganzoo sample runs/info --traverse c1=-2:2:8            # rows: each value of a categorical code\n"
        "  ganzoo sample runs/info --latent code=3 --traverse c1=-1:1:8   # rows: seeded draws, code fixed\n"
        "  ganzoo sample runs/demo --traverse z.0=-2:2:8           # sweep one dimension\n"
        "  ganzoo sample runs/demo --interpolate 0:1:10 --num 40   # 4 slerp paths from seed 0 to seed 1\n"
        "  ganzoo sample runs/ppgn --class 3 --set sample.steps=200",
    )
    sample.add_argument("run_dir", type=Path, help="run directory written by `ganzoo train`")
    sample.add_argument("--num", type=int, default=64, help="number of images (default 64)")
    sample.add_argument("--out", type=Path, help="FILE.png for a grid, or a folder (default RUN_DIR/samples/sample-SEED.png)")
    sample.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    sample.add_argument("--class", dest="label", type=int, help="class label for conditional models (default: a grid with one row per class)")
    sample.add_argument("--truncation", type=float, help="truncation-trick threshold (e.g. 0.5); default none")
    sample.add_argument("--checkpoint", help="checkpoint name (e.g. step-000500) or step; default latest")
    sample.add_argument("--direction", choices=["AtoB", "BtoA"], default="AtoB", help="unpaired translation direction")
    sample.add_argument("--nrow", type=int, help="images per grid row")
    sample.add_argument("--device", default="cpu", help="device to sample on (default cpu)")
    sample.add_argument("--latent", action="append", default=[], metavar="NAME=VALUE",
                        help="fix a latent: a class index for categorical latents, one number (every dimension) or "
                        "comma-separated numbers (repeatable)")
    grids = sample.add_mutually_exclusive_group()
    grids.add_argument("--traverse", metavar="NAME[.DIM]=LOW:HIGH:STEPS",
                       help="grid sweeping one latent across columns; rows are the values of the first categorical "
                       "latent not fixed, else --num/STEPS seeded draws")
    grids.add_argument("--interpolate", metavar="SEED_A:SEED_B[:STEPS]",
                       help="grid of --num/STEPS paths (default 8 steps) from seed A's latents to seed B's "
                       "(slerp for normal latents)")
    sample.add_argument("--set", dest="overrides", action="append", default=[], metavar="sample.KEY=VALUE",
                        help="change one of the model's sampling settings, e.g. --set sample.steps=200 (repeatable)")
    sample.add_argument("--allow-other-plugin", action="store_true",
                       help="load a run trained by another plugin distribution than the one providing its model now")
    sample.set_defaults(handler=run_sample)


def _train_values(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    return {
        "train": {"steps": args.steps, "batch_size": args.batch_size, "loss": args.loss, "seed": args.seed,
                  "device": args.device, "precision": args.precision, "channels_last": args.channels_last,
                  "progress": False if args.no_progress else None},
        "data": {"dataset": args.dataset, "root": args.data_root},
    }


def run_train(args: argparse.Namespace) -> int:
    """Handler of ``ganzoo train``."""
    from ganzoo.data import dataset_help

    if args.list_datasets:
        print(dataset_help())
        return 0
    from ganzoo.config import load_toml, resolve_config
    from ganzoo.plugins import get_host
    from ganzoo.trainer import Trainer, TrainingError

    try:
        if args.resume is not None:
            if args.model or args.config or args.overrides or args.dataset:
                raise CommandError("--resume continues a run with its saved config: give only --steps, --device or --no-progress")
            trainer = Trainer.from_run_dir(args.resume, steps=args.steps, device=args.device,
                                           progress=False if args.no_progress else None)
        else:
            if not args.model:
                raise CommandError("name the model to train (see `ganzoo list`), or --resume RUN_DIR")
            spec = get_host().get_model(args.model)
            file_data = load_toml(args.config) if args.config else None
            if file_data and file_data.get("model_name") not in (None, spec.name):
                raise CommandError(f"{args.config} is a config for model {file_data['model_name']!r}, not {spec.name!r}")
            config = resolve_config(spec, file_data, args.overrides, _train_values(args),
                                    file_name=str(args.config or "config file"))
            from datetime import datetime

            out = args.out or Path("runs") / f"{spec.name}-{datetime.now():%Y%m%d-%H%M%S}"
            trainer = Trainer(config, out)
        result = trainer.train()
    except TrainingError as exc:
        raise CommandError(str(exc)) from exc
    if result.interrupted:  # 130 for Ctrl-C, 143 for SIGTERM: the shell's 128 + signal number
        return 128 + result.stop_signal if result.stop_signal else INTERRUPTED_STATUS
    if trainer.main:  # under torchrun, one summary line (rank 0's)
        print(f"trained {trainer.spec.name} to step {result.step} in {result.train_seconds:.0f} s: {result.run_dir} "
              f"(checkpoint {result.checkpoint.name if result.checkpoint else '-'}, samples in {result.run_dir / 'samples'})",
              file=sys.stderr)
    return 0


def run_sample(args: argparse.Namespace) -> int:
    """Handler of ``ganzoo sample``."""
    import torch

    from ganzoo.checkpoint import load_run
    from ganzoo.images import save_grid, save_images, side_by_side
    from ganzoo.sampling import (Interpolation, Traversal, apply_sample_settings, interpolation_grid,
                                 parse_latent_values, require_latents, sample_images, traversal_grid)

    if args.num < 1:
        raise CommandError("--num must be at least 1")
    if args.truncation is not None and not 0 < args.truncation < float("inf"):
        raise CommandError(f"--truncation {args.truncation}: the threshold must be a positive number (e.g. 0.5)")
    from ganzoo.config import MAX_SEED

    if not 0 <= args.seed <= MAX_SEED:
        raise CommandError(f"--seed {args.seed}: seeds are whole numbers 0..{MAX_SEED}")
    if args.nrow is not None and args.nrow < 1:
        raise CommandError(f"--nrow {args.nrow}: a grid row holds at least 1 image")
    traversal = Traversal.parse(args.traverse) if args.traverse else None
    interpolation = Interpolation.parse(args.interpolate) if args.interpolate else None
    loaded = load_run(args.run_dir, checkpoint=args.checkpoint, device=args.device)
    spec, state = loaded.spec, loaded.state
    _check_sampling_options(args, spec)
    apply_sample_settings(state, args.overrides)
    if args.latent:
        require_latents(state, "--latent")
    labels, per_row = None, None
    if spec.conditional and traversal is None and interpolation is None:
        labels, per_row = _labels(args, state)
        args.num = len(labels)
    fixed = parse_latent_values(args.latent, state.latents, args.num)
    torch.manual_seed(args.seed)
    inputs = None
    if traversal is not None:
        grid = traversal_grid(state, traversal, args.num, args.seed, fixed, args.label, args.truncation)
        images, nrow = grid.images, grid.nrow
        default_name = f"traverse-{traversal.name}-{args.seed}.png"
    elif interpolation is not None:
        grid = interpolation_grid(state, interpolation, args.num, fixed, args.label, args.truncation)
        images, nrow = grid.images, grid.nrow
        default_name = "interpolate-{}-{}.png".format(*interpolation.seeds)
    else:
        inputs = _inputs(args, loaded) if spec.image_to_image else None
        images = sample_images(state, args.num, labels=labels, inputs=inputs, truncation=args.truncation,
                               latents=fixed, generator=torch.Generator().manual_seed(args.seed),
                               direction=args.direction)
        nrow = args.nrow or per_row or max(1, int(args.num**0.5))
        default_name = f"sample-{args.seed}.png"
    out = args.out or args.run_dir / "samples" / default_name
    if out.suffix.lower() == ".png":
        if inputs is not None:
            images, nrow = side_by_side([inputs, images])
        save_grid(images, out, nrow)
    else:
        save_images(images, out)
    print(f"wrote {len(images)} samples of {spec.name} (step {loaded.step}) to {out}", file=sys.stderr)
    return 0


def _check_sampling_options(args: argparse.Namespace, spec: Any) -> None:
    """Options the run's model cannot honour are errors, not silently ignored."""
    if args.label is not None and not spec.conditional:
        raise CommandError(f"--class {args.label}: model {spec.name!r} is unconditional (it has no classes); "
                           "leave out --class")
    if args.truncation is not None and spec.image_to_image:
        raise CommandError(f"--truncation: model {spec.name!r} translates images (it draws no noise); "
                           "leave out --truncation")


def _labels(args: argparse.Namespace, state: Any) -> tuple[Any, int | None]:
    """``--class K``: ``--num`` samples of class K; else a class grid (one row per class)."""
    import torch

    from ganzoo.sampling import class_grid_labels

    classes = int(state.model_config.num_classes)
    if args.label is not None:
        if not 0 <= args.label < classes:
            raise CommandError(f"--class {args.label}: this model has classes 0..{classes - 1}")
        return torch.full((args.num,), args.label, dtype=torch.long, device=state.device), None
    return class_grid_labels(classes, args.num, state.device)


def _inputs(args: argparse.Namespace, loaded: Any) -> Any:
    """Source images for translation models: the first held-out items of the run's dataset."""
    import torch

    from ganzoo.data import build_dataset

    config = loaded.config
    dataset = build_dataset(config.data, config.model, loaded.spec.task, split="test")
    key = "input" if loaded.spec.task == "paired-image-to-image" else ("a" if args.direction == "AtoB" else "b")
    count = min(args.num, len(dataset))
    args.num = count
    return torch.stack([dataset[i][key] for i in range(count)]).to(loaded.state.device)
