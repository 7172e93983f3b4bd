"""Folder formats for image-to-image models: pix2pix-style aligned ``A|B`` images and unpaired ``trainA``/``trainB``.

* :class:`AlignedPairFolder`: each file holds the source A in its left half and the target B in its right
  half (the layout of the pix2pix datasets ``facades``, ``edges2shoes``, ...); items are ``input``/``image``.
* :class:`UnpairedFolder`: ``<root>/trainA`` and ``<root>/trainB`` (``testA``/``testB`` for ``split="test"``)
  hold images of two domains with no correspondence; items are ``a``/``b``.

Small folders are decoded once into memory (``tensors``, which the loader gathers from).  An undecodable
file raises :class:`~ganzoo.data.images.DataError` naming it, unless ``skip_bad_files`` is set: then every
file is decoded up front and the bad ones are left out and listed in ``skipped``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal

import torch
from PIL import Image
from torch.utils.data import Dataset

from ganzoo.data.images import IMAGE_EXTENSIONS, DataError, list_images, open_image, to_tensor

DIRECTIONS = ("AtoB", "BtoA")
PRELOAD_MAX_BYTES = 1 << 30  # decode up front only while the tensors stay under 1 GiB
PAIRING_SEED = 0  # fixed: the (arbitrary) pairing of A and B items is the same in every run


def split_aligned(image: Image.Image, path: Path) -> tuple[Image.Image, Image.Image]:
    """The left (A) and right (B) halves of an aligned ``A|B`` image."""
    width, height = image.size
    if width < 2:
        raise DataError(f"{path} is {width} px wide: an aligned A|B image needs a left and a right half")
    half = width // 2
    return image.crop((0, 0, half, height)), image.crop((half, 0, 2 * half, height))


def _fits_in_memory(count: int, fields: int, image_size: int, channels: int, max_images: int) -> bool:
    return count <= max_images and count * fields * channels * image_size**2 * 4 <= PRELOAD_MAX_BYTES


def _decode_files(
    files: list[Path], decode: Callable[[Path], dict[str, torch.Tensor]], skip_bad_files: bool, skipped: list[Path]
) -> tuple[list[Path], dict[str, torch.Tensor]]:
    """Decode every file; bad ones raise, or with ``skip_bad_files`` go to ``skipped``.  Returns kept files, tensors."""
    items, kept = [], []
    for path in files:
        try:
            items.append(decode(path))
        except DataError:
            if not skip_bad_files:
                raise
            skipped.append(path)
            continue
        kept.append(path)
    if not kept:
        raise DataError(f"none of the {len(files)} images in {files[0].parent} could be decoded")
    return kept, {field: torch.stack([item[field] for item in items]) for field in items[0]}


def _require_images(folder: Path, what: str) -> list[Path]:
    files = list_images(folder)
    if not files:
        raise DataError(f"no images found in {folder} ({what}; looked for {', '.join(IMAGE_EXTENSIONS)} files)")
    return files


class AlignedPairFolder(Dataset):
    """Paired data from aligned ``A|B`` images in ``root``: ``direction="AtoB"`` maps the left half to the right."""

    def __init__(
        self,
        root: str | Path,
        image_size: int,
        channels: int,
        direction: Literal["AtoB", "BtoA"] = "AtoB",
        skip_bad_files: bool = False,
        preload_max_images: int = 20000,
    ) -> None:
        if direction not in DIRECTIONS:
            raise DataError(f"direction must be one of {', '.join(DIRECTIONS)}; got {direction!r}")
        self.root = Path(root)
        if not self.root.is_dir():
            raise DataError(f"{self.root} is not a folder (expected aligned A|B images in it)")
        self.image_size, self.channels, self.direction = image_size, channels, direction
        self.files = _require_images(self.root, "aligned A|B images, A left and B right")
        self.skipped: list[Path] = []
        self.tensors: dict[str, torch.Tensor] | None = None
        if skip_bad_files or _fits_in_memory(len(self.files), 2, image_size, channels, preload_max_images):
            self.files, self.tensors = _decode_files(self.files, self._decode, skip_bad_files, self.skipped)

    def _decode(self, path: Path) -> dict[str, torch.Tensor]:
        left, right = split_aligned(open_image(path, self.channels), path)
        source, target = (left, right) if self.direction == "AtoB" else (right, left)
        return {"input": to_tensor(source, self.image_size), "image": to_tensor(target, self.image_size)}

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if self.tensors is not None:
            return {field: value[index] for field, value in self.tensors.items()}
        return self._decode(self.files[index])


class UnpairedFolder(Dataset):
    """Unpaired data from ``<root>/<split>A`` and ``<root>/<split>B``.

    The dataset is as long as the larger domain; item ``i`` holds A image ``i mod |A|`` and the B image at
    a fixed random permutation of the indices, so A and B are never aligned by file name or order.
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        image_size: int,
        channels: int,
        skip_bad_files: bool = False,
        preload_max_images: int = 20000,
    ) -> None:
        self.root = Path(root)
        self.split, self.image_size, self.channels = split, image_size, channels
        folders = {domain: self.root / f"{split}{domain.upper()}" for domain in ("a", "b")}
        missing = [str(folder) for folder in folders.values() if not folder.is_dir()]
        if missing:
            raise DataError(
                f"unpaired data needs the folders {folders['a']} and {folders['b']}; missing: {', '.join(missing)}"
            )
        self.files = {domain: _require_images(folder, f"domain {domain.upper()}") for domain, folder in folders.items()}
        self.skipped: list[Path] = []
        self.images: dict[str, torch.Tensor] = {}
        total = len(self.files["a"]) + len(self.files["b"])
        if skip_bad_files or _fits_in_memory(total, 1, image_size, channels, preload_max_images):
            for domain in ("a", "b"):
                self.files[domain], tensors = _decode_files(
                    self.files[domain], lambda path: {"x": self._load(path)}, skip_bad_files, self.skipped
                )
                self.images[domain] = tensors["x"]
        self.b_order = torch.randperm(len(self.files["b"]), generator=torch.Generator().manual_seed(PAIRING_SEED))
        self.tensors: dict[str, torch.Tensor] | None = None
        if self.images:
            everything = torch.arange(len(self))
            self.tensors = {"a": self.images["a"][everything % len(self.files["a"])],
                            "b": self.images["b"][self._b_index(everything)]}

    def _load(self, path: Path) -> torch.Tensor:
        return to_tensor(open_image(path, self.channels), self.image_size)

    def _b_index(self, index: torch.Tensor) -> torch.Tensor:
        return self.b_order[index % len(self.files["b"])]

    def __len__(self) -> int:
        return max(len(self.files["a"]), len(self.files["b"]))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if self.tensors is not None:
            return {field: value[index] for field, value in self.tensors.items()}
        a_index = index % len(self.files["a"])
        b_index = int(self._b_index(torch.tensor(index)))
        return {"a": self._load(self.files["a"][a_index]), "b": self._load(self.files["b"][b_index])}
