"""Which torchvision datasets ganzoo reads and where their files live (torch-free, for registration)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ganzoo.data.errors import DataError

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
