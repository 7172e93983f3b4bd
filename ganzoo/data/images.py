"""Decoding image files into ganzoo's tensor convention, with errors that name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ganzoo.data.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")




def list_images(folder: str | Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name (so datasets are deterministic)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def open_image(path: str | Path, channels: int) -> Image.Image:
    """Decode ``path`` into a PIL image with 1 (L) or 3 (RGB) channels; undecodable files raise DataError."""
    mode = {1: "L", 3: "RGB", 4: "RGBA"}.get(channels)
    if mode is None:
        raise DataError(f"channels must be 1, 3 or 4, got {channels}")
    try:
        with Image.open(path) as image:
            image.load()
            return image.convert(mode)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot decode image {path}: {exc}") from exc


def to_tensor(image: Image.Image, image_size: int | None = None) -> torch.Tensor:
    """PIL image -> float tensor (C, H, W) in [-1, 1], resized (bicubic, square) when ``image_size`` is set."""
    if image_size is not None and image.size != (image_size, image_size):
        image = image.resize((image_size, image_size), Image.Resampling.BICUBIC)
    array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.transpose(2, 0, 1).copy())


def load_image(path: str | Path, image_size: int | None, channels: int) -> torch.Tensor:
    """Decode, convert and resize one file (see :func:`open_image` and :func:`to_tensor`)."""
    return to_tensor(open_image(path, channels), image_size)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float images -> uint8 in [0, 255] (what image files and torch-fidelity expect)."""
    return ((images.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
