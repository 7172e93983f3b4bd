"""Seeded augmentations: the papers' jitter and mirror for training batches, DiffAugment before D, exact resume."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import ganzoo
from ganzoo.augment import RNG_KEY, Flip, Jitter, build_augmenter, diff_color, diff_cutout, diff_translation
from ganzoo.checkpoint import load_run
from ganzoo.config import ConfigError
from ganzoo.plugins import get_host
from ganzoo.testing import build_tiny_state, synthetic_batches, tiny_run_config
from ganzoo.trainer import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from trainer_helpers import few_digits, metric_rows, tiny_config  # noqa: E402


def _images(num: int = 6, size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.rand(num, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _window_offset(big: torch.Tensor, crop: torch.Tensor) -> tuple[int, int] | None:
    size = crop.size(-1)
    for top in range(big.size(-2) - size + 1):
        for left in range(big.size(-1) - size + 1):
            if torch.allclose(big[..., top:top + size, left:left + size], crop, atol=1e-6):
                return top, left
    return None


@pytest.mark.parametrize("size, loaded", [(32, 36), (256, 286)])
def test_jitter_crops_a_window_of_the_image_resized_to_286_256(size: int, loaded: int) -> None:
    images = _images(3, size)
    (out,) = Jitter()([images], torch.Generator().manual_seed(1))
    assert out.shape == images.shape
    big = F.interpolate(images, size=(loaded, loaded), mode="bicubic", align_corners=False).clamp(-1, 1)
    offsets = [_window_offset(big[i], out[i]) for i in range(3)] if size == 32 else [(0, 0)]
    assert all(offset is not None for offset in offsets), "every output is a crop of the resized image"
    if size == 32:
        assert len(set(offsets)) > 1, "crops are drawn per image"


def test_paired_items_share_crop_and_mirror_unpaired_domains_do_not() -> None:
    images = _images(8)
    spec_paired, spec_unpaired = ganzoo.get_model("pix2pix"), ganzoo.get_model("cyclegan")
    for spec, keys in ((spec_paired, ("input", "image")), (spec_unpaired, ("a", "b"))):
        config = tiny_run_config(spec)
        assert config.data.augment == ["jitter", "flip"], f"{spec.name} trains with the paper's jitter by default"
        config.model.image_size = 32
        augmenter = build_augmenter(config, spec)
        extras: dict = {}
        out = augmenter.augment_batch({keys[0]: images, keys[1]: images.clone()}, extras)
        assert not torch.equal(out[keys[0]], images)
        same = torch.equal(out[keys[0]], out[keys[1]])
        assert same == (spec is spec_paired), f"{spec.name}: {keys} {'must' if spec is spec_paired else 'must not'} match"
        assert RNG_KEY in extras


def test_flip_mirrors_about_half_of_the_images() -> None:
    images = _images(200, 8)
    (out,) = Flip()([images], torch.Generator().manual_seed(0))
    mirrored = [torch.equal(o, i.flip(-1)) for o, i in zip(out, images)]
    kept = [torch.equal(o, i) for o, i in zip(out, images)]
    assert all(m or k for m, k in zip(mirrored, kept)) and 70 < sum(mirrored) < 130


def test_diffaugment_translation_shifts_by_at_most_an_eighth_with_zero_fill() -> None:
    images = torch.rand(16, 1, 16, 16) + 1  # strictly positive, so the zero fill is visible
    out = diff_translation(images, torch.Generator().manual_seed(0))
    shifts = set()
    for original, moved in zip(images, out):
        found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                 if torch.equal(moved, _shift(original, dy, dx))]
        assert found, "each image is its original shifted by at most 2 px (1/8 of 16) with zeros"
        shifts.add(found[0])
    assert len(shifts) > 3


def _shift(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    padded = F.pad(image, [2, 2, 2, 2])
    size = image.size(-1)
    return padded[:, 2 + dy:2 + dy + size, 2 + dx:2 + dx + size]


def test_diffaugment_cutout_zeroes_a_square_of_half_the_size_clipped_at_borders() -> None:
    images = torch.rand(32, 3, 16, 16) + 1
    out = diff_cutout(images, torch.Generator().manual_seed(0))
    for moved in out:
        holes = (moved == 0).all(dim=0)
        rows, cols = holes.any(dim=1).nonzero().flatten(), holes.any(dim=0).nonzero().flatten()
        assert 1 <= len(rows) <= 8 and 1 <= len(cols) <= 8
        assert holes.sum() == len(rows) * len(cols), "the hole is one rectangle"
        assert len(rows) == 8 or rows.min() == 0 or rows.max() == 15, "a square is only cut short at a border"


def test_diffaugment_color_is_a_per_image_affine_map_and_everything_is_differentiable() -> None:
    images = _images(4, 8).requires_grad_(True)
    out = diff_color(images, torch.Generator().manual_seed(0))
    for original, changed in zip(images.detach(), out.detach()):  # brightness/saturation/contrast keep structure
        correlation = torch.corrcoef(torch.stack([original.flatten(), changed.flatten()]))[0, 1]
        assert correlation > 0.3 or correlation < -0.3 or changed.std() < 1e-3
    generator = torch.Generator().manual_seed(0)
    total = diff_cutout(diff_translation(diff_color(images, generator), generator), generator).sum()
    (grad,) = torch.autograd.grad(total, images)
    assert grad.abs().sum() > 0, "gradients reach the images (G learns through DiffAugment)"


def test_diffaugment_sees_real_and_fake_images_in_the_default_step() -> None:
    state = build_tiny_state("dcgan", diffaugment=["color", "translation", "cutout"])
    calls: list[torch.Tensor] = []
    original = state.augmenter.augment_for_discriminator

    def spy(images: torch.Tensor, extras: dict) -> torch.Tensor:
        calls.append(images)
        return original(images, extras)

    state.augmenter.augment_for_discriminator = spy  # type: ignore[method-assign]
    batches = synthetic_batches(state)
    get_host().call("ganzoo_train_step", "dcgan", state=state, batches=batches)
    assert len(calls) == 3, "D step: real and fake; G step: fake"
    assert [c.requires_grad for c in calls] == [False, False, True], "the generator's images keep their graph"


def test_unknown_or_misplaced_augmentations_are_config_errors() -> None:
    config = tiny_config("dcgan")
    config.data.augment = ["jiter"]
    with pytest.raises(ConfigError, match=r"data.augment: unknown data-stage augmentation 'jiter'.*jitter"):
        build_augmenter(config, ganzoo.get_model("dcgan"))
    config = tiny_config("dcgan")
    config.train.diffaugment = ["flip"]
    with pytest.raises(ConfigError, match="train.diffaugment.*'flip'.*allowed: color, translation, cutout"):
        build_augmenter(config, ganzoo.get_model("dcgan"))
    pix2pix = tiny_run_config("pix2pix")
    pix2pix.train.diffaugment = ["color"]
    with pytest.raises(ConfigError, match="noise-to-image"):
        build_augmenter(pix2pix, ganzoo.get_model("pix2pix"))


def test_resume_with_augmentation_is_exact(tmp_path: Path) -> None:
    extra = {"diffaugment": ["color", "translation", "cutout"]}
    straight_config, split_config = tiny_config(steps=6, **extra), tiny_config(steps=3, **extra)
    for config in (straight_config, split_config):
        config.data.augment = ["flip", "jitter"]
    Trainer(straight_config, tmp_path / "straight", dataset=few_digits()).train()
    Trainer(split_config, tmp_path / "split", dataset=few_digits()).train()
    resumed = Trainer.from_run_dir(tmp_path / "split", steps=6)
    resumed.dataset = few_digits()
    resumed.train()
    rows_a, rows_b = metric_rows(tmp_path / "straight"), metric_rows(tmp_path / "split")
    assert [row["loss_d"] for row in rows_a] == pytest.approx([row["loss_d"] for row in rows_b], abs=1e-6)
    a, b = load_run(tmp_path / "straight").state, load_run(tmp_path / "split").state
    assert torch.equal(a.extras[RNG_KEY], b.extras[RNG_KEY])
    for name in a.networks:
        for key, value in a.unwrapped(name).state_dict().items():
            assert torch.allclose(value.float(), b.unwrapped(name).state_dict()[key].float(), atol=1e-6), f"{name}.{key}"
