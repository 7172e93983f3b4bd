"""Seeded augmentations: the papers' jitter for training batches and DiffAugment for discriminators.

Two stages, both chosen by name from the augmentations registered through ``ganzoo_register_augmentations``:

* ``data.augment`` (stage ``data``) transforms training batches as they leave the loader: ``jitter`` (resize to
  286/256 of the image size, random crop back; pix2pix/CycleGAN) and ``flip`` (horizontal mirror, p = 0.5).
  Images of one paired item (``input`` and ``image``) get the same crop and mirror; unpaired domains (``a``,
  ``b``) and noise-to-image batches are transformed independently.
* ``train.diffaugment`` (stage ``discriminator``) applies DiffAugment (Zhao et al. 2020, arXiv:2006.10738) to
  every image a noise-to-image model's discriminator sees, real and fake, inside ``state.discriminate``:
  ``color`` (brightness, saturation, contrast), ``translation`` (1/8 of the size, zero fill) and ``cutout``
  (a square of half the size).  The operations are differentiable, so G learns through them.

All randomness comes from one CPU ``torch.Generator`` per run, seeded from ``train.seed`` and kept in
``state.extras`` (so in checkpoints): a resumed run draws exactly the augmentations the uninterrupted run
would have, and switching augmentation on leaves the model's own random streams unchanged.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from einops import rearrange

RNG_KEY = "augment_rng"
"""Key of the augmentation generator's state in ``state.extras``."""

PAPER_LOAD_RATIO = 286 / 256
"""pix2pix/CycleGAN load images at 286 px and crop 256 px; scaled to any image size."""

_SEED_SALT = 0x5EED_A06


def _uniform(num: int, generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """``num`` uniform [0, 1) numbers drawn on the CPU generator, shaped to broadcast over images."""
    return torch.rand(num, generator=generator).to(device=like.device, dtype=like.dtype).view(num, 1, 1, 1)


def _integers(low: int, high: int, num: int, generator: torch.Generator, device: torch.device) -> torch.Tensor:
    """``num`` integers in ``[low, high]`` drawn on the CPU generator."""
    return torch.randint(low, high + 1, (num,), generator=generator).to(device)


def _shifted(images: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``images[n, :, rows[n], cols[n]]`` for per-sample index vectors (differentiable gather)."""
    batch = torch.arange(images.size(0), device=images.device)
    picked = images[batch[:, None, None], :, rows[:, :, None], cols[:, None, :]]  # (N, H, W, C)
    return rearrange(picked, "n h w c -> n c h w")


# -- data stage ---------------------------------------------------------------------------------------
class Jitter:
    """Resize to ``load_ratio`` times the size (bicubic), then crop a random window of the original size."""

    def __init__(self, load_ratio: float = PAPER_LOAD_RATIO) -> None:
        if load_ratio < 1:
            raise ValueError(f"jitter load_ratio must be >= 1, got {load_ratio}")
        self.load_ratio = load_ratio

    def __call__(self, images: Sequence[torch.Tensor], generator: torch.Generator) -> list[torch.Tensor]:
        num, _, height, width = images[0].shape
        load_h, load_w = round(height * self.load_ratio), round(width * self.load_ratio)
        device = images[0].device
        top = _integers(0, load_h - height, num, generator, device)
        left = _integers(0, load_w - width, num, generator, device)
        rows = top[:, None] + torch.arange(height, device=device)
        cols = left[:, None] + torch.arange(width, device=device)
        out = []
        for image in images:
            loaded = F.interpolate(image.float(), size=(load_h, load_w), mode="bicubic", align_corners=False)
            out.append(_shifted(loaded.clamp(-1, 1), rows, cols).to(image.dtype))
        return out


class Flip:
    """Mirror left-right with probability ``p`` (the same decision for every image of a group)."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, images: Sequence[torch.Tensor], generator: torch.Generator) -> list[torch.Tensor]:
        flip = _uniform(images[0].size(0), generator, images[0]) < self.p
        return [torch.where(flip, image.flip(-1), image) for image in images]


# -- discriminator stage (DiffAugment) ----------------------------------------------------------------
def diff_color(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random brightness (+U[-0.5, 0.5]), saturation (x U[0, 2]) and contrast (x U[0.5, 1.5]), per image."""
    num = images.size(0)
    images = images + (_uniform(num, generator, images) - 0.5)
    mean = images.mean(dim=1, keepdim=True)
    images = (images - mean) * (_uniform(num, generator, images) * 2) + mean
    mean = images.mean(dim=(1, 2, 3), keepdim=True)
    return (images - mean) * (_uniform(num, generator, images) + 0.5) + mean


def diff_translation(images: torch.Tensor, generator: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size in each direction, filling with zeros."""
    num, _, height, width = images.shape
    shift_h, shift_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    device = images.device
    dy = _integers(-shift_h, shift_h, num, generator, device)
    dx = _integers(-shift_w, shift_w, num, generator, device)
    padded = F.pad(images, [1, 1, 1, 1])  # index 0 and size + 1 read the zero border
    rows = (torch.arange(height, device=device) + dy[:, None] + 1).clamp(0, height + 1)
    cols = (torch.arange(width, device=device) + dx[:, None] + 1).clamp(0, width + 1)
    return _shifted(padded, rows, cols)


def diff_cutout(images: torch.Tensor, generator: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Zero a square of ``ratio`` times the size centred at a random position (clipped at the borders)."""
    num, _, height, width = images.shape
    size_h, size_w = int(height * ratio + 0.5), int(width * ratio + 0.5)
    device = images.device
    top = _integers(0, height - size_h % 2, num, generator, device) - size_h // 2
    left = _integers(0, width - size_w % 2, num, generator, device) - size_w // 2
    rows = torch.arange(height, device=device)[None, :] - top[:, None]
    cols = torch.arange(width, device=device)[None, :] - left[:, None]
    inside = ((rows >= 0) & (rows < size_h))[:, :, None] & ((cols >= 0) & (cols < size_w))[:, None, :]
    return images * rearrange((~inside).to(images.dtype), "n h w -> n 1 h w")


DIFFAUGMENT_POLICY = ("color", "translation", "cutout")
"""The paper's full policy, in the reference's order."""


# -- the run's augmenter ------------------------------------------------------------------------------
DataAugmentation = Callable[[Sequence[torch.Tensor], torch.Generator], Sequence[torch.Tensor]]
DiscriminatorAugmentation = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


class Augmenter:
    """The augmentations of one run, with the generator they draw from.

    ``paired``: the image tensors of one batch item belong together (paired translation data) and get the
    same transform.  The generator state lives in ``extras[RNG_KEY]`` so that it is checkpointed with the run.
    """

    def __init__(
        self,
        data: Sequence[DataAugmentation],
        discriminator: Sequence[DiscriminatorAugmentation],
        seed: int,
        paired: bool,
    ) -> None:
        self.data = list(data)
        self.discriminator = list(discriminator)
        self.paired = paired
        self.generator = torch.Generator().manual_seed((seed * 1_000_003 + _SEED_SALT) % 2**63)
        self._synced: torch.Tensor | None = None

    def _draw(self, extras: dict[str, Any]) -> torch.Generator:
        saved = extras.get(RNG_KEY)
        if saved is not None and saved is not self._synced:  # a restored checkpoint: continue from its state
            self.generator.set_state(saved)
        return self.generator

    def _keep(self, extras: dict[str, Any]) -> None:
        self._synced = self.generator.get_state()
        extras[RNG_KEY] = self._synced

    def augment_batch(self, batch: Mapping[str, torch.Tensor], extras: dict[str, Any]) -> dict[str, torch.Tensor]:
        """The batch with every image tensor transformed by the data-stage augmentations."""
        out = dict(batch)
        if not self.data:
            return out
        keys = [key for key, value in batch.items() if value.dim() == 4 and value.is_floating_point()]
        groups = [keys] if self.paired else [[key] for key in keys]
        generator = self._draw(extras)
        for group in groups:
            images = [out[key] for key in group]
            for augmentation in self.data:
                images = list(augmentation(images, generator))
            out.update(zip(group, images))
        self._keep(extras)
        return out

    def augment_for_discriminator(self, images: torch.Tensor, extras: dict[str, Any]) -> torch.Tensor:
        """``images`` through the discriminator-stage augmentations (differentiable)."""
        if not self.discriminator:
            return images
        generator = self._draw(extras)
        for augmentation in self.discriminator:
            images = augmentation(images, generator)
        self._keep(extras)
        return images


class AugmentedBatchSource:
    """A batch source whose batches pass through the run's data-stage augmentations (other attributes pass through)."""

    def __init__(self, source: Any, augmenter: Augmenter, extras_owner: Any) -> None:
        self._source = source
        self._augmenter = augmenter
        self._owner = extras_owner

    def next(self) -> dict[str, torch.Tensor]:
        return self._augmenter.augment_batch(self._source.next(), self._owner.extras)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._source, name)


def build_augmenter(config: Any, spec: Any, host: Any = None) -> Augmenter | None:
    """The augmenter for ``config.data.augment`` and ``config.train.diffaugment`` (``None`` when both are empty).

    Unknown names, a name of the wrong stage and DiffAugment on an image-to-image model are config errors
    naming the field and the allowed values.
    """
    from ganzoo.config import ConfigError
    from ganzoo.plugins import get_host
    from ganzoo.specs import call_with_accepted

    host = host or get_host()
    registered = host.extensions("augmentation")
    data_names, d_names = list(config.data.augment), list(config.train.diffaugment)
    if not data_names and not d_names:
        return None
    if d_names and spec.image_to_image:
        raise ConfigError(
            f"train.diffaugment = {d_names}: DiffAugment is for noise-to-image models; {spec.name!r} translates "
            "images (use data.augment for its training data)"
        )
    built: dict[str, list[Any]] = {"data": [], "discriminator": []}
    for field, stage, names in (("data.augment", "data", data_names), ("train.diffaugment", "discriminator", d_names)):
        allowed = [name for name, aug in registered.items() if aug.stage == stage]
        for name in names:
            if name not in allowed:
                raise ConfigError(f"{field}: unknown {stage}-stage augmentation {name!r} (allowed: {', '.join(allowed)})")
            augmentation = registered[name]
            built[stage].append(call_with_accepted(
                augmentation.factory, f"augmentation {name!r}", config=config, image_size=config.model.image_size,
                channels=config.model.channels, task=spec.task,
            ))
    return Augmenter(built["data"], built["discriminator"], config.train.seed, spec.task == "paired-image-to-image")
