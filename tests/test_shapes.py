"""The procedural ``shapes`` dataset: determinism, conventions, variants and their relations."""

from __future__ import annotations

import pytest
import torch

from ganzoo.data.images import DataError
from ganzoo.data.shapes import COLOURS, SHAPES, ShapesDataset


@pytest.mark.parametrize(
    ("variant", "fields"), [("labelled", {"image", "label"}), ("paired", {"input", "image"}), ("unpaired", {"a", "b"})]
)
def test_items_follow_the_dict_convention(variant: str, fields: set[str]) -> None:
    dataset = ShapesDataset(variant, size=16, image_size=16)
    item = dataset[3]
    assert set(item) == fields
    for name, value in item.items():
        if name == "label":
            assert value.dtype == torch.int64 and value.dim() == 0
            assert 0 <= int(value) < dataset.num_classes
        else:
            assert value.shape == (3, 16, 16) and value.dtype == torch.float32
            assert value.min() >= -1 and value.max() <= 1


def test_deterministic_per_seed_split_and_index() -> None:
    first = ShapesDataset("paired", size=12, image_size=16)
    again = ShapesDataset("paired", size=12, image_size=16)
    other_seed = ShapesDataset("paired", size=12, image_size=16, seed=1)
    test_split = ShapesDataset("paired", split="test", size=12, image_size=16)
    assert torch.equal(first[5]["image"], again[5]["image"])
    assert not torch.equal(first[5]["image"], first[6]["image"])
    assert not torch.equal(first[5]["image"], other_seed[5]["image"])
    assert not torch.equal(first[5]["image"], test_split[5]["image"])


def test_item_does_not_depend_on_dataset_size_or_rendering_path() -> None:
    small = ShapesDataset("labelled", size=10, image_size=16)
    large = ShapesDataset("labelled", size=40, image_size=16)
    small.tensors = None  # force on-the-fly rendering
    assert torch.equal(small[7]["image"], large[7]["image"])
    assert int(small[7]["label"]) == int(large[7]["label"])


def test_default_sizes_and_class_names() -> None:
    assert len(ShapesDataset("labelled", image_size=8)) == 2000
    assert len(ShapesDataset("labelled", split="test", image_size=8)) == 500
    assert ShapesDataset.num_classes == len(SHAPES) * len(COLOURS) == len(ShapesDataset.class_names)
    labels = ShapesDataset("labelled", size=400, image_size=8).tensors["label"]
    assert set(labels.tolist()) == set(range(ShapesDataset.num_classes))


def test_label_reflects_shape_colour() -> None:
    dataset = ShapesDataset("labelled", size=200, image_size=16)
    images, labels = dataset.tensors["image"], dataset.tensors["label"]
    colour_of = labels % len(COLOURS)
    for colour, rgb in enumerate(COLOURS.values()):
        chosen = images[colour_of == colour]
        # the brightest pixel of each image belongs to the shape: its dominant channel matches the colour
        flat = chosen.flatten(2)
        brightest = flat.sum(1).argmax(-1)
        pixels = flat[torch.arange(len(flat)), :, brightest]
        expected = torch.tensor(rgb, dtype=torch.float32) / 127.5 - 1
        assert (pixels - expected).abs().mean() < 0.3


def test_paired_input_is_the_outline_of_the_target() -> None:
    dataset = ShapesDataset("paired", size=50, image_size=32)
    inputs, targets = dataset.tensors["input"], dataset.tensors["image"]
    background = targets[:, :, 0, 0]
    ink_target = ((targets - background[..., None, None]).abs().sum(1) > 0.5)
    ink_input = ((inputs - background[..., None, None]).abs().sum(1) > 0.5)
    # same geometry and colour: the outline lies (almost) inside the filled shape and covers less of it
    inside = (ink_input & ink_target).flatten(1).sum(1) / ink_input.flatten(1).sum(1).clamp(min=1)
    assert inside.mean() > 0.8
    assert (ink_input.flatten(1).sum(1) < ink_target.flatten(1).sum(1)).float().mean() > 0.8


def test_unpaired_domains_differ_and_are_independent() -> None:
    dataset = ShapesDataset("unpaired", size=200, image_size=16)
    a, b = dataset.tensors["a"], dataset.tensors["b"]
    assert a.mean() > 0.3 > -0.3 > b.mean()  # light backgrounds in A, dark in B
    # geometry of a[i] and b[i] are unrelated draws
    shapes_a = [dataset.shape_at(i, "a").shape for i in range(200)]
    shapes_b = [dataset.shape_at(i, "b").shape for i in range(200)]
    agreement = sum(x == y for x, y in zip(shapes_a, shapes_b)) / 200
    assert agreement < 0.6


def test_single_channel_and_large_images_render_lazily() -> None:
    grey = ShapesDataset("labelled", size=4, image_size=16, channels=1)
    assert grey[0]["image"].shape == (1, 16, 16)
    large = ShapesDataset("paired", size=3000, image_size=128)
    assert large.tensors is None
    assert large[2999]["input"].shape == (3, 128, 128)
    with pytest.raises(IndexError):
        large[3000]


@pytest.mark.parametrize(
    ("kwargs", "culprit"),
    [({"variant": "pairs"}, "variant"), ({"split": "val"}, "split"), ({"channels": 4}, "channels"),
     ({"size": 0}, "size"), ({"image_size": 4}, "image_size")],
)
def test_bad_arguments_are_named(kwargs: dict, culprit: str) -> None:
    with pytest.raises(DataError, match=culprit):
        ShapesDataset(**kwargs)


def test_paired_direction_btoa_swaps_input_and_target() -> None:
    from ganzoo.config import DataConfig, ModelConfig
    from ganzoo.data import build_dataset

    forward = ShapesDataset("paired", split="test", image_size=16, size=3)
    model = ModelConfig(image_size=16, channels=3)
    reverse = build_dataset(DataConfig(dataset="shapes-paired", split="test", direction="BtoA"), model,
                            "paired-image-to-image")
    assert torch.equal(reverse[1]["input"], forward[1]["image"]) and torch.equal(reverse[1]["image"], forward[1]["input"])
