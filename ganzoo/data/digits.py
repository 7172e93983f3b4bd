"""The embedded default dataset: scikit-learn's 1,797 handwritten 8x8 digits (no download, ever)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from ganzoo.data.images import DataError
from ganzoo.data.preloaded import PreloadedDataset

SPLITS = ("train", "test")
HELD_OUT_FRACTION = 0.2
SPLIT_SEED = 0  # fixed: every run, benchmark and metric sees the same held-out digits


@lru_cache(maxsize=1)
def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.images, digits.target


def split_indices(labels: np.ndarray, split: str) -> np.ndarray:
    """Indices of ``split``: a stratified 80/20 train/test split with a fixed seed."""
    from sklearn.model_selection import train_test_split

    if split not in SPLITS:
        raise DataError(f"digits has splits {', '.join(SPLITS)}; got {split!r}")
    indices = np.arange(len(labels))
    train, test = train_test_split(indices, test_size=HELD_OUT_FRACTION, random_state=SPLIT_SEED, stratify=labels)
    return np.sort(train if split == "train" else test)


def resize_images(images: torch.Tensor, image_size: int, channels: int) -> torch.Tensor:
    """``(N, 1, h, w)`` images in [-1, 1] -> ``(N, channels, image_size, image_size)`` (bicubic, antialiased)."""
    if images.shape[-1] != image_size:
        images = F.interpolate(images, size=(image_size, image_size), mode="bicubic", align_corners=False,
                               antialias=image_size < images.shape[-1]).clamp(-1, 1)
    return images.expand(-1, channels, -1, -1).contiguous()


class DigitsDataset(PreloadedDataset):
    """Real handwritten digits (sklearn.datasets.load_digits), labelled 0-9, resized to ``image_size``."""

    num_classes = 10

    def __init__(self, split: str = "train", image_size: int = 32, channels: int = 1) -> None:
        images, targets = _load_digits()
        chosen = split_indices(targets, split)
        pixels = torch.from_numpy(images[chosen].astype(np.float32))[:, None] / 8.0 - 1.0  # 0..16 -> [-1, 1]
        super().__init__({
            "image": resize_images(pixels, image_size, channels),
            "label": torch.from_numpy(targets[chosen].astype(np.int64)),
        })
