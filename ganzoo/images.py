"""Writing generated images: sample grids and folders of PNGs, always atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

import torch
from PIL import Image

from ganzoo.data.images import to_uint8
from ganzoo.fileio import atomic_write_bytes


def _png_bytes(image: torch.Tensor) -> bytes:
    """uint8 (C, H, W) tensor -> PNG file contents (grey for one channel)."""
    array = image.permute(1, 2, 0).cpu().numpy()
    if array.shape[2] == 1:
        array = array[:, :, 0]
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def make_grid(images: torch.Tensor, nrow: int = 8, padding: int = 2) -> torch.Tensor:
    """``(N, C, H, W)`` images in ``[-1, 1]`` -> one uint8 ``(C, H', W')`` grid, ``nrow`` images per row."""
    from torchvision.utils import make_grid as torchvision_grid

    if images.dim() != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(images.shape)}")
    grid = torchvision_grid(images.detach().float().cpu().clamp(-1, 1), nrow=max(1, nrow), padding=padding,
                            normalize=True, value_range=(-1, 1), pad_value=1.0)
    if images.size(1) == 1:  # make_grid repeats grey images to RGB; keep one channel
        grid = grid[:1]
    return (grid * 255).round().to(torch.uint8)


def save_grid(images: torch.Tensor, path: str | Path, nrow: int = 8) -> Path:
    """Write ``images`` (``(N, C, H, W)`` in ``[-1, 1]``) as one PNG grid with ``nrow`` images per row."""
    return atomic_write_bytes(path, _png_bytes(make_grid(images, nrow)))


def save_images(images: torch.Tensor, folder: str | Path, prefix: str = "sample", start: int = 0) -> list[Path]:
    """Write each image of ``images`` (``[-1, 1]``) as its own PNG ``folder/{prefix}-{index:05d}.png``."""
    folder = Path(folder)
    pixels = to_uint8(images).cpu()
    return [atomic_write_bytes(folder / f"{prefix}-{start + i:05d}.png", _png_bytes(image)) for i, image in enumerate(pixels)]


def side_by_side(columns: Sequence[torch.Tensor]) -> tuple[torch.Tensor, int]:
    """Interleave preview columns so that row ``i`` shows element ``i`` of each; returns images and ``nrow``.

    Columns with fewer channels than the widest are repeated to match (grey input beside a colour output).
    """
    if not columns:
        raise ValueError("a preview needs at least one column of images")
    channels = max(column.size(1) for column in columns)
    matched = [column.float().cpu().expand(-1, channels, -1, -1) if column.size(1) == 1 else column.float().cpu()
               for column in columns]
    shapes = {tuple(column.shape) for column in matched}
    if len(shapes) != 1:
        raise ValueError(f"preview columns must have the same shape, got {sorted(shapes)}")
    stacked = torch.stack(matched, dim=1)  # (N, columns, C, H, W)
    return stacked.flatten(0, 1), len(columns)
