"""torchvision's datasets (MNIST, CIFAR-10, CelebA, ...) in ganzoo's item convention.

They download when online (``data.download``) and otherwise read ``data.root``; when neither works the
error lists exactly which files to put where.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils.data import Dataset

from ganzoo.data.images import DataError, to_tensor
from ganzoo.data.torchvision_catalogue import TORCHVISION_DATASETS, TorchvisionEntry

__all__ = ["TORCHVISION_DATASETS", "TorchvisionEntry", "TorchvisionItems", "build_torchvision_dataset", "default_root"]


def default_root() -> Path:
    """Where downloaded datasets go when ``data.root`` is not set (``$GANZOO_DATA`` or ~/.cache/ganzoo/datasets)."""
    return Path(os.environ.get("GANZOO_DATA") or Path.home() / ".cache" / "ganzoo" / "datasets")


class TorchvisionItems(Dataset):
    """Wraps a torchvision dataset: PIL images -> ``image`` tensors in [-1, 1] (square, resized) and ``label``."""

    def __init__(self, source: Dataset, image_size: int, channels: int, labelled: bool) -> None:
        self.source, self.image_size, self.labelled = source, image_size, labelled
        self.mode = {1: "L", 3: "RGB", 4: "RGBA"}[channels]

    def __len__(self) -> int:
        return len(self.source)  # type: ignore[arg-type]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        image, target = self.source[index]
        width, height = image.size
        if width != height:  # centre-crop to a square (CelebA) before resizing
            side = min(width, height)
            left, top = (width - side) // 2, (height - side) // 2
            image = image.crop((left, top, left + side, top + side))
        item = {"image": to_tensor(image.convert(self.mode), self.image_size)}
        if self.labelled:
            item["label"] = torch.tensor(int(target), dtype=torch.int64)
        return item


def build_torchvision_dataset(
    name: str, split: str, image_size: int, channels: int, root: str | None, download: bool
) -> TorchvisionItems:
    """The torchvision dataset ``name`` (a key of :data:`TORCHVISION_DATASETS`), read from ``root`` or downloaded."""
    import torchvision.datasets

    entry = TORCHVISION_DATASETS[name]
    folder = Path(root) if root else default_root()
    factory = getattr(torchvision.datasets, entry.class_name)
    arguments = entry.split_arguments(split)
    if entry.class_name == "CelebA":
        arguments["target_type"] = []
    try:
        source = factory(str(folder), download=False, **arguments)
    except (RuntimeError, FileNotFoundError, OSError) as missing:
        reason = f"not found there ({missing})"
        if not download:
            raise _offline_error(name, entry, folder, reason + "; downloading is off (data.download = false)") from None
        try:
            source = factory(str(folder), download=True, **arguments)
        except Exception as exc:  # no network, a proxy, a checksum mismatch: all end the same way
            raise _offline_error(name, entry, folder, f"download failed ({type(exc).__name__}: {exc})") from None
    return TorchvisionItems(source, image_size, channels, entry.labelled)


def _offline_error(name: str, entry: TorchvisionEntry, folder: Path, reason: str) -> DataError:
    return DataError(
        f"dataset {name!r} is not available: {reason}. Put the files in {folder}/: {entry.files} "
        f"(or point --data-root / data.root at the folder that holds them)"
    )
