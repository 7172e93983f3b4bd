"""The embedded default dataset: scikit-learn's 1,797 handwritten 8x8 digits (no download, ever)."""

from __future__ import annotations

import importlib.util
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ganzoo.data.images import DataError
from ganzoo.data.preloaded import PreloadedDataset

SPLITS = ("train", "test")
HELD_OUT_FRACTION = 0.2
SPLIT_SEED = 0  # fixed: every run, benchmark and metric sees the same held-out digits


SPLIT_FILE = Path(__file__).with_name("digits_split.json")
DIGITS_CSV = ("datasets", "data", "digits.csv.gz")  # inside the scikit-learn package: what load_digits() reads


@lru_cache(maxsize=1)
def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    """``(images (1797, 8, 8) float64 0..16, targets (1797,) int)``, exactly ``sklearn.datasets.load_digits()``.

    Read straight from the CSV file scikit-learn ships, as ``load_digits`` does, without importing scikit-learn:
    that import alone costs ~0.8 s and ~80 MB at every ``ganzoo train`` and ``ganzoo bench`` start.  Falls back
    to ``load_digits()`` if a scikit-learn release moves the file.
    """
    spec = importlib.util.find_spec("sklearn")  # locates the package without running it
    if spec is None:
        raise DataError("the embedded digits dataset comes with scikit-learn: pip install scikit-learn")
    csv = Path(next(iter(spec.submodule_search_locations or [""])), *DIGITS_CSV)
    if not csv.is_file():
        from sklearn.datasets import load_digits

        digits = load_digits()
        return digits.images, digits.target
    data = np.loadtxt(csv, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)


@lru_cache(maxsize=1)
def _test_indices() -> np.ndarray:
    return np.asarray(json.loads(SPLIT_FILE.read_text())["test"], dtype=np.int64)


def split_indices(labels: np.ndarray, split: str) -> np.ndarray:
    """Indices of ``split``: a stratified 80/20 train/test split with a fixed seed.

    The held-out indices are frozen in ``digits_split.json`` (scikit-learn's ``train_test_split`` with
    ``test_size=0.2, random_state=0, stratify=labels``, as computed once), so the digits protocols' reference
    images cannot change with a scikit-learn release; ``tests/test_data.py`` recomputes them.
    """
    if split not in SPLITS:
        raise DataError(f"digits has splits {', '.join(SPLITS)}; got {split!r}")
    test = _test_indices()
    if split == "test":
        return test
    return np.setdiff1d(np.arange(len(labels)), test)


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
