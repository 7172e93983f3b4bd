"""``ganzoo translate``: run a trained image-to-image model (pix2pix, cyclegan, ...) on image files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ganzoo.cli import CommandError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``translate`` command."""
    translate = subparsers.add_parser(
        "translate", help="translate image files with a trained image-to-image model",
        description="Translate an image, or every image in a folder, with the model trained in RUN_DIR. Outputs are "
        "PNGs named like their inputs (photo.jpg -> OUT/photo.png), at the model's resolution unless --keep-size.",
    )
    translate.add_argument("run_dir", type=Path, help="run directory written by `ganzoo train`")
    translate.add_argument("--input", required=True, type=Path, help="an image file, or a folder of images")
    translate.add_argument("--out", required=True, type=Path, help="folder for the translated PNGs")
    translate.add_argument("--direction", choices=["AtoB", "BtoA"], default=None,
                           help="translation direction of unpaired models (default AtoB)")
    translate.add_argument("--checkpoint", help="checkpoint name (e.g. step-000500) or step; default latest")
    translate.add_argument("--keep-size", action="store_true", help="resize each output back to its input's size")
    translate.add_argument("--batch-size", type=int, default=16, help="images translated at once (default 16)")
    translate.add_argument("--seed", type=int, default=0, help="seed for stochastic generators (pix2pix dropout)")
    translate.add_argument("--skip-bad-files", action="store_true", help="skip (and count) undecodable images")
    translate.add_argument("--device", default="cpu", help="device to run on (default cpu)")
    translate.add_argument("--allow-other-plugin", action="store_true",
                       help="load a run trained by another plugin distribution than the one providing its model now")
    translate.set_defaults(handler=run_translate)


def input_files(path: Path) -> list[Path]:
    """The image files to translate: ``path`` itself, or the images directly inside the folder ``path``."""
    from ganzoo.data.images import IMAGE_EXTENSIONS, list_images

    if path.is_file():
        return [path]
    if not path.exists():
        raise CommandError(f"--input {path}: no such file or folder")
    files = list_images(path)
    if not files:
        raise CommandError(f"--input {path}: no images in this folder (looked for {', '.join(IMAGE_EXTENSIONS)})")
    stems: dict[str, Path] = {}
    for file in files:
        if file.stem in stems:
            raise CommandError(f"--input {path}: {stems[file.stem].name} and {file.name} would both be written as "
                               f"{file.stem}.png")
        stems[file.stem] = file
    return files


def _direction(spec: Any, requested: str | None, trained: str) -> str:
    """The direction to translate in: paired models only know the one they were trained in (``data.direction``)."""
    if spec.task != "paired-image-to-image":
        return requested or "AtoB"
    if requested and requested != trained:
        other = "BtoA" if trained == "AtoB" else "AtoB"
        raise CommandError(f"{spec.name} was trained with data.direction={trained} and translates only in that "
                           f"direction; to go {requested}, train with data.direction={other}")
    return trained


def run_translate(args: argparse.Namespace) -> int:
    """Handler of ``ganzoo translate``."""
    import torch

    from ganzoo.checkpoint import load_run
    from ganzoo.config import MAX_SEED
    from ganzoo.sampling import sample_images

    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1")
    if not 0 <= args.seed <= MAX_SEED:
        raise CommandError(f"--seed {args.seed}: seeds are whole numbers 0..{MAX_SEED}")
    files = input_files(args.input)
    loaded = load_run(args.run_dir, checkpoint=args.checkpoint, device=args.device)
    spec, state = loaded.spec, loaded.state
    if not spec.image_to_image:
        raise CommandError(f"{spec.name} is a {spec.task} model; `ganzoo translate` needs an image-to-image model "
                           "(use `ganzoo sample` for this one)")
    direction = _direction(spec, args.direction, str(getattr(loaded.config.data, "direction", "AtoB")))
    generator = torch.Generator().manual_seed(args.seed)
    written, skipped = 0, []
    for start in range(0, len(files), args.batch_size):
        batch_files = files[start:start + args.batch_size]
        images, sizes, kept = _load_batch(batch_files, state.model_config, args.skip_bad_files, skipped)
        if not kept:
            continue
        outputs = sample_images(state, len(kept), inputs=images.to(state.device), generator=generator,
                                direction=direction)  # the direction reaches unpaired models only
        for path, size, output in zip(kept, sizes, outputs):
            _write(output, args.out / f"{path.stem}.png", size if args.keep_size else None)
            written += 1
    if written == 0:
        raise CommandError(f"none of the {len(files)} input images could be decoded")
    note = f" ({len(skipped)} undecodable skipped: {', '.join(p.name for p in skipped[:5])}" \
           f"{', ...' if len(skipped) > 5 else ''})" if skipped else ""
    print(f"translated {written} images with {spec.name} (step {loaded.step}, {direction}) into {args.out}{note}",
          file=sys.stderr)
    return 0


def _load_batch(files: list[Path], config: Any, skip_bad_files: bool, skipped: list[Path]) -> tuple[Any, list, list[Path]]:
    """Decode ``files`` at the model's resolution; returns the stacked images, original sizes and kept files."""
    import torch

    from ganzoo.data.images import DataError, open_image, to_tensor

    images, sizes, kept = [], [], []
    for path in files:
        try:
            image = open_image(path, int(config.channels))
        except DataError:
            if not skip_bad_files:
                raise
            skipped.append(path)
            continue
        sizes.append(image.size)
        images.append(to_tensor(image, int(config.image_size)))
        kept.append(path)
    return (torch.stack(images) if images else None), sizes, kept


def _write(image: Any, path: Path, size: tuple[int, int] | None) -> None:
    """Save one ``[-1, 1]`` image atomically as PNG, resized to ``size`` (width, height) when given."""
    import torch.nn.functional as F

    from ganzoo.images import save_grid

    image = image.detach().float().cpu()
    if size is not None and tuple(image.shape[-2:]) != (size[1], size[0]):
        image = F.interpolate(image[None], size=(size[1], size[0]), mode="bicubic", align_corners=False)[0].clamp(-1, 1)
    save_grid(image[None], path, nrow=1)
