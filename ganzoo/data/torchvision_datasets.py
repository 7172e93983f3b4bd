"""torchvision's datasets (MNIST, CIFAR-10, CelebA, ...) in ganzoo's item convention.

They download when online (``data.download``) and otherwise read ``data.root``; when neither works the
error lists exactly which files to put where.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch.utils.data import Dataset

from ganzoo.data.images import DataError, to_tensor

_MNIST_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


@dataclass(frozen=True)
class TorchvisionEntry:
    """How to build one torchvision dataset and where its files live under the root."""

    class_name: str
    description: str
    files: str  # where the files go, relative to the root (shown in the offline error)
    split_arguments: Callable[[str], dict[str, Any]]
    labelled: bool = True


def _train_flag(split: str) -> dict[str, Any]:
    if split not in ("train", "test"):
        raise DataError(f"this dataset has splits train, test; got {split!r}")
    return {"train": split == "train"}


def _named_split(allowed: tuple[str, ...], rename: dict[str, str] | None = None) -> Callable[[str], dict[str, Any]]:
    def arguments(split: str) -> dict[str, Any]:
        if split not in allowed:
            raise DataError(f"this dataset has splits {', '.join(allowed)}; got {split!r}")
        return {"split": (rename or {}).get(split, split)}

    return arguments


def _mnist_files(folder: str) -> str:
    return f"{folder}/raw/ with {', '.join(_MNIST_FILES)} (the downloads, un-gzipped)"


TORCHVISION_DATASETS: dict[str, TorchvisionEntry] = {
    "mnist": TorchvisionEntry("MNIST", "MNIST handwritten digits, 28x28 grey, 10 classes", _mnist_files("MNIST"), _train_flag),
    "fashion-mnist": TorchvisionEntry("FashionMNIST", "Fashion-MNIST clothing, 28x28 grey, 10 classes",
                                      _mnist_files("FashionMNIST"), _train_flag),
    "kmnist": TorchvisionEntry("KMNIST", "Kuzushiji-MNIST characters, 28x28 grey, 10 classes", _mnist_files("KMNIST"), _train_flag),
    "cifar10": TorchvisionEntry("CIFAR10", "CIFAR-10, 32x32 RGB, 10 classes",
                                "cifar-10-batches-py/ (data_batch_1..5, test_batch, batches.meta: the extracted "
                                "cifar-10-python.tar.gz)", _train_flag),
    "cifar100": TorchvisionEntry("CIFAR100", "CIFAR-100, 32x32 RGB, 100 classes",
                                 "cifar-100-python/ (train, test, meta: the extracted cifar-100-python.tar.gz)", _train_flag),
    "svhn": TorchvisionEntry("SVHN", "Street View House Numbers, 32x32 RGB, 10 classes",
                             "train_32x32.mat and test_32x32.mat", _named_split(("train", "test", "extra"))),
    "celeba": TorchvisionEntry("CelebA", "CelebA aligned faces, 178x218 RGB (centre-cropped square), unlabelled",
                               "celeba/ with img_align_celeba/ (the extracted img_align_celeba.zip), "
                               "list_eval_partition.txt, list_attr_celeba.txt, identity_CelebA.txt, "
                               "list_bbox_celeba.txt and list_landmarks_align_celeba.txt",
                               _named_split(("train", "test", "valid", "all")), labelled=False),
}


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
