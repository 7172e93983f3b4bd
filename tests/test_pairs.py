"""Folder formats for image-to-image data: aligned A|B images and unpaired trainA/trainB folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.data.images import DataError
from ganzoo.data.pairs import AlignedPairFolder, UnpairedFolder


def _aligned(path: Path, left: int, right: int, size: int = 16) -> None:
    pixels = np.zeros((size, 2 * size, 3), dtype=np.uint8)
    pixels[:, :size] = left
    pixels[:, size:] = right
    Image.fromarray(pixels).save(path)


def _solid(path: Path, value: int, size: int = 12) -> None:
    Image.fromarray(np.full((size, size, 3), value, dtype=np.uint8)).save(path)


def _value(image: torch.Tensor) -> int:
    return round(float((image.mean() + 1) * 127.5))


@pytest.fixture
def aligned_folder(tmp_path: Path) -> Path:
    for i in range(4):
        _aligned(tmp_path / f"{i}.png", left=10 + i, right=200 + i)
    return tmp_path


@pytest.mark.parametrize("preload", [20000, 0])
def test_aligned_splits_left_input_right_target(aligned_folder: Path, preload: int) -> None:
    dataset = AlignedPairFolder(aligned_folder, image_size=8, channels=3, preload_max_images=preload)
    assert (dataset.tensors is None) == (preload == 0)
    assert len(dataset) == 4
    item = dataset[2]
    assert item["input"].shape == item["image"].shape == (3, 8, 8)
    assert _value(item["input"]) == 12 and _value(item["image"]) == 202


def test_aligned_direction_btoa_swaps_halves(aligned_folder: Path) -> None:
    item = AlignedPairFolder(aligned_folder, image_size=8, channels=1, direction="BtoA")[1]
    assert item["input"].shape == (1, 8, 8)
    assert _value(item["input"]) == 201 and _value(item["image"]) == 11
    with pytest.raises(DataError, match="direction"):
        AlignedPairFolder(aligned_folder, image_size=8, channels=3, direction="sideways")  # type: ignore[arg-type]


def test_bad_files_are_named_or_skipped(aligned_folder: Path) -> None:
    (aligned_folder / "broken.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="broken.png"):
        AlignedPairFolder(aligned_folder, image_size=8, channels=3)
    dataset = AlignedPairFolder(aligned_folder, image_size=8, channels=3, skip_bad_files=True)
    assert len(dataset) == 4 and [p.name for p in dataset.skipped] == ["broken.png"]


def test_empty_or_missing_folders_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no images found"):
        AlignedPairFolder(tmp_path, image_size=8, channels=3)
    with pytest.raises(DataError, match="trainB"):
        (tmp_path / "trainA").mkdir()
        UnpairedFolder(tmp_path, image_size=8, channels=3)


@pytest.fixture
def unpaired_folder(tmp_path: Path) -> Path:
    for domain, count, base in (("A", 6, 0), ("B", 4, 100)):
        for split in ("train", "test"):
            folder = tmp_path / f"{split}{domain}"
            folder.mkdir()
            for i in range(count):
                _solid(folder / f"{i:02d}.png", base + 10 * i + (5 if split == "test" else 0))
    return tmp_path


@pytest.mark.parametrize("preload", [20000, 0])
def test_unpaired_covers_both_domains_without_alignment(unpaired_folder: Path, preload: int) -> None:
    dataset = UnpairedFolder(unpaired_folder, image_size=8, channels=3, preload_max_images=preload)
    assert len(dataset) == 6  # the larger domain
    a_values = [_value(dataset[i]["a"]) for i in range(6)]
    b_values = [_value(dataset[i]["b"]) for i in range(6)]
    assert a_values == [10 * i for i in range(6)]
    assert set(b_values) == {100, 110, 120, 130}  # every B image is used
    assert b_values[:4] != [100, 110, 120, 130]  # not in file order: pairing by index is arbitrary


def test_unpaired_test_split_and_skipping(unpaired_folder: Path) -> None:
    dataset = UnpairedFolder(unpaired_folder, split="test", image_size=8, channels=3)
    assert _value(dataset[0]["a"]) == 5
    (unpaired_folder / "trainB" / "zz.png").write_bytes(b"junk")
    with pytest.raises(DataError, match="zz.png"):
        UnpairedFolder(unpaired_folder, image_size=8, channels=3)
    skipping = UnpairedFolder(unpaired_folder, image_size=8, channels=3, skip_bad_files=True)
    assert [p.name for p in skipping.skipped] == ["zz.png"] and len(skipping) == 6
