"""ganzoo.data: the embedded digits, folders of images, torchvision datasets offline, the resumable loader."""

from __future__ import annotations

import struct
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.config import DataConfig, ModelConfig
from ganzoo.data import DataError, build_dataset, known_datasets
from ganzoo.data.loader import EpochBatchSource, EpochLoader
from ganzoo.data.preloaded import PreloadedDataset


def _model(size: int = 16, channels: int = 1) -> ModelConfig:
    return ModelConfig(image_size=size, channels=channels)


# -- digits -------------------------------------------------------------------------------------------
def test_digits_are_the_real_sklearn_digits_split_without_overlap() -> None:
    from collections import Counter

    from sklearn.datasets import load_digits

    train = build_dataset(DataConfig(), _model(8), "class-conditional")
    test = build_dataset(DataConfig(), _model(8), "class-conditional", split="test")
    assert len(train) + len(test) == 1797 and len(test) == pytest.approx(360, abs=2)

    def keys(images: torch.Tensor) -> Counter:
        return Counter(bytes(row) for row in images.reshape(len(images), -1).to(torch.int8).numpy())

    originals = torch.from_numpy(load_digits().images.astype(np.float32))  # 0..16; at 8 px nothing is resized
    split_images = torch.cat([train.tensors["image"], test.tensors["image"]])
    assert keys((split_images + 1.0) * 8.0) == keys(originals), "train + test is exactly sklearn's digits, once each"
    assert set(test.tensors["label"].tolist()) == set(range(10))


def test_digits_loader_and_frozen_split_match_scikit_learn() -> None:
    """The sklearn-free reader gives load_digits() exactly; the shipped held-out indices are train_test_split's."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from ganzoo.data import digits as digits_module
    from ganzoo.data.digits import HELD_OUT_FRACTION, SPLIT_SEED, split_indices

    reference = load_digits()
    images, targets = digits_module._load_digits.__wrapped__()
    assert np.array_equal(images, reference.images) and np.array_equal(targets, reference.target)
    _, test = train_test_split(np.arange(len(targets)), test_size=HELD_OUT_FRACTION, random_state=SPLIT_SEED,
                               stratify=targets)
    assert np.array_equal(split_indices(targets, "test"), np.sort(test))
    train = split_indices(targets, "train")
    assert len(np.intersect1d(train, test)) == 0 and len(train) + len(test) == len(targets)


def test_digits_fall_back_to_load_digits_when_the_csv_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    from sklearn.datasets import load_digits

    from ganzoo.data import digits as digits_module

    monkeypatch.setattr(digits_module, "DIGITS_CSV", ("no-such-folder", "digits.csv.gz"))
    images, targets = digits_module._load_digits.__wrapped__()
    reference = load_digits()
    assert np.array_equal(images, reference.images) and np.array_equal(targets, reference.target)


def test_digits_follow_the_model_resolution_and_channels() -> None:
    item = build_dataset(DataConfig(), _model(32, 3), "unconditional")[5]
    assert item["image"].shape == (3, 32, 32) and item["label"].dtype == torch.int64
    assert item["image"].min() >= -1 and item["image"].max() <= 1 and item["image"].std() > 0.3
    again = build_dataset(DataConfig(), _model(32, 3), "unconditional")[5]
    assert torch.equal(item["image"], again["image"])


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(DataError, match="did you mean 'digits'.*known: digits"):
        build_dataset(DataConfig(dataset="digts"), _model(), "unconditional")
    assert {"digits", "mnist", "cifar10", "shapes"} <= set(known_datasets())


def test_a_dataset_that_does_not_fit_the_task_is_refused() -> None:
    with pytest.raises(DataError, match="does not fit a paired-image-to-image model"):
        build_dataset(DataConfig(), _model(), "paired-image-to-image")
    with pytest.raises(DataError, match="10 classes but model.num_classes = 3"):
        build_dataset(DataConfig(), ModelConfig(image_size=16, channels=1, num_classes=3), "class-conditional")


# -- folders ------------------------------------------------------------------------------------------
def _write_png(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((10, 12, 3), value, dtype=np.uint8)).save(path)


def test_class_subfolders_become_labels(tmp_path: Path) -> None:
    _write_png(tmp_path / "cats" / "a.png", 0)
    _write_png(tmp_path / "cats" / "b.png", 50)
    _write_png(tmp_path / "dogs" / "c.png", 255)
    dataset = build_dataset(DataConfig(dataset=str(tmp_path)), _model(8, 3), "class-conditional")
    assert dataset.classes == ["cats", "dogs"]
    assert [int(dataset[i]["label"]) for i in range(3)] == [0, 0, 1]
    assert dataset[2]["image"].shape == (3, 8, 8) and torch.allclose(dataset[2]["image"], torch.ones(3, 8, 8))


def test_a_flat_folder_is_unlabelled_and_lazy_loading_works(tmp_path: Path) -> None:
    for i in range(3):
        _write_png(tmp_path / f"{i}.png", 100)
    dataset = build_dataset(DataConfig(dataset=str(tmp_path), preload_max_images=0), _model(8, 1), "unconditional")
    assert dataset.tensors is None and set(dataset[1]) == {"image"} and dataset[1]["image"].shape == (1, 8, 8)
    with pytest.raises(DataError, match="does not fit a class-conditional"):
        build_dataset(DataConfig(dataset=str(tmp_path)), _model(8, 1), "class-conditional")


@pytest.mark.parametrize("preload", [0, 100])
def test_an_undecodable_file_is_named_or_skipped_and_counted(tmp_path: Path, preload: int) -> None:
    _write_png(tmp_path / "good.png", 10)
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    data = DataConfig(dataset=str(tmp_path), preload_max_images=preload)
    with pytest.raises(DataError, match="broken.png"):
        dataset = build_dataset(data, _model(8, 1), "unconditional")
        [dataset[i] for i in range(len(dataset))]
    skipping = build_dataset(data.model_copy(update={"skip_bad_files": True}), _model(8, 1), "unconditional")
    assert len(skipping) == 1 and [p.name for p in skipping.skipped] == ["broken.png"]


def test_an_empty_folder_says_what_it_looked_for(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no images found in .*\.png"):
        build_dataset(DataConfig(dataset=str(tmp_path)), _model(), "unconditional")


# -- torchvision datasets, offline ---------------------------------------------------------------------
def _write_idx(path: Path, array: np.ndarray, magic: int) -> None:
    header = struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def _fake_mnist(root: Path, count: int = 6) -> None:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for prefix in ("train", "t10k"):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (count, 28, 28)), 2051)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(count) % 10, 2049)


def test_mnist_is_read_from_the_data_root_without_network(tmp_path: Path) -> None:
    _fake_mnist(tmp_path)
    dataset = build_dataset(DataConfig(dataset="mnist", root=str(tmp_path), download=False), _model(32, 1), "class-conditional")
    assert len(dataset) == 6
    item = dataset[3]
    assert item["image"].shape == (1, 32, 32) and int(item["label"]) == 3


def test_missing_mnist_offline_says_which_files_to_put_where(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        build_dataset(DataConfig(dataset="mnist", root=str(tmp_path), download=False), _model(), "unconditional")
    message = str(info.value)
    assert str(tmp_path) in message and "MNIST/raw/" in message and "train-images-idx3-ubyte" in message


def test_a_failed_download_gives_the_same_instructions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    def no_network(self: object) -> None:
        raise urllib.error.URLError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets.CIFAR10, "download", no_network)
    with pytest.raises(DataError, match=r"download failed \(URLError.*cifar-10-batches-py"):
        build_dataset(DataConfig(dataset="cifar10", root=str(tmp_path)), _model(), "unconditional")


# -- shapes and image pairs (written by another module; skipped until present) --------------------------
def test_shapes_variant_follows_the_task() -> None:
    pytest.importorskip("ganzoo.data.shapes")
    labelled = build_dataset(DataConfig(dataset="shapes"), _model(16, 3), "class-conditional")
    assert {"image", "label"} <= set(labelled[0])
    paired = build_dataset(DataConfig(dataset="shapes"), _model(16, 3), "paired-image-to-image")
    assert {"input", "image"} <= set(paired[0]) and paired[0]["input"].shape == (3, 16, 16)
    unpaired = build_dataset(DataConfig(dataset="shapes"), _model(16, 3), "unpaired-image-to-image")
    assert {"a", "b"} <= set(unpaired[0])


def test_a_folder_with_train_a_and_train_b_is_read_as_unpaired(tmp_path: Path) -> None:
    pytest.importorskip("ganzoo.data.pairs")
    for domain, value in (("trainA", 0), ("trainB", 255)):
        for i in range(2):
            _write_png(tmp_path / domain / f"{i}.png", value)
    dataset = build_dataset(DataConfig(dataset=str(tmp_path)), _model(8, 3), "unpaired-image-to-image")
    item = dataset[0]
    assert item["a"].shape == (3, 8, 8) and float(item["a"].mean()) < float(item["b"].mean())


# -- the loader -----------------------------------------------------------------------------------------
def _numbered(count: int = 20) -> PreloadedDataset:
    return PreloadedDataset({"image": torch.arange(count, dtype=torch.float32).view(count, 1, 1, 1),
                             "label": torch.arange(count)})


class _Lazy(torch.utils.data.Dataset):
    """The same items without a ``tensors`` attribute (goes through a DataLoader)."""

    def __init__(self, count: int = 20) -> None:
        self.inner = _numbered(count)

    def __len__(self) -> int:
        return len(self.inner)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return self.inner[index]


def _order(loader: EpochLoader, epoch: int, start: int = 0) -> list[int]:
    return [int(v) for batch in loader.epoch(epoch, start) for v in batch["label"]]


@pytest.mark.parametrize("dataset", [_numbered(), _Lazy()], ids=["preloaded", "dataloader"])
def test_epoch_order_depends_only_on_seed_and_epoch(dataset: torch.utils.data.Dataset) -> None:
    loader = EpochLoader(dataset, batch_size=3, seed=7)
    first, second = _order(loader, 0), _order(loader, 1)
    assert len(first) == 18 and len(set(first)) == 18, "full batches of distinct items"
    assert first != second and first == _order(EpochLoader(dataset, batch_size=3, seed=7), 0)
    assert _order(loader, 1, start=2) == second[6:], "resuming mid-epoch continues the same order"
    assert first != _order(EpochLoader(dataset, batch_size=3, seed=8), 0)


def test_distributed_ranks_see_disjoint_shards() -> None:
    shards = [set(_order(EpochLoader(_numbered(), batch_size=2, seed=1, rank=r, world_size=2), 0)) for r in range(2)]
    assert not shards[0] & shards[1] and len(shards[0] | shards[1]) == 20


def test_batch_source_rolls_over_epochs_and_reports_its_position() -> None:
    source = EpochBatchSource(EpochLoader(_numbered(10), batch_size=4, seed=0), torch.device("cpu"))
    seen = [source.next()["label"].tolist() for _ in range(3)]
    assert source.consumed == 3 and source.position() == {"epoch": 1, "batch_in_epoch": 1, "seed": 0}
    assert seen[2] == _order(EpochLoader(_numbered(10), batch_size=4, seed=0), 1)[:4]


def test_a_dataset_smaller_than_a_batch_is_refused() -> None:
    with pytest.raises(DataError, match="fewer than one batch of 64"):
        EpochLoader(_numbered(10), batch_size=64)


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_aligned_pairs_are_chosen_by_data_format(tmp_path: Path, direction: str) -> None:
    pytest.importorskip("ganzoo.data.pairs")
    side_by_side = np.concatenate([np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)], axis=1)
    (tmp_path / "train").mkdir()
    for i in range(2):
        Image.fromarray(side_by_side).save(tmp_path / "train" / f"{i}.png")
    data = DataConfig(dataset=str(tmp_path), format="aligned", direction=direction)
    item = build_dataset(data, _model(8, 3), "paired-image-to-image")[0]
    dark, light = (item["input"], item["image"]) if direction == "AtoB" else (item["image"], item["input"])
    assert item["input"].shape == (3, 8, 8) and float(dark.mean()) < 0 < float(light.mean())
