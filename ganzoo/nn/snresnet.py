"""Spectrally normalised ResNet GANs (SN-GAN / SAGAN / BigGAN family): blocks, projection head and networks.

* :class:`GBlock`: BN-ReLU-upsample-conv-BN-ReLU-conv with a 1x1 convolution on the (upsampled) shortcut; its
  norms are conditional (``norm(x, condition)``, see :mod:`ganzoo.nn.conditional_norm`).
* :class:`DBlock`: pre-activation ReLU-conv-ReLU-conv-avgpool; the ReLU is never in place, because its input is
  also the shortcut's (an in-place ReLU would rectify the shortcut too).  The first block of a discriminator
  sees images and is not pre-activated.
* :class:`ProjectionHead` (Miyato & Koyama 2018): ``linear(h) + <embed(y), h>`` on sum-pooled features.
* :class:`SNResNetGenerator` / :class:`SNResNetDiscriminator`: the networks of the ``sagan`` and ``biggan-lite``
  plugins, with BigGAN's channel plans (``generator_channels`` / ``discriminator_plan``), optional self-attention
  at one feature resolution, per-class or shared-embedding conditional BN and a hierarchical latent.
"""

from __future__ import annotations

import math
from typing import Callable, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.nn.attention import SelfAttention
from ganzoo.nn.conditional_norm import ClassConditionalBatchNorm2d, PlainBatchNorm2d, SharedConditionalBatchNorm2d
from ganzoo.nn.spectral import maybe_sn

Conditioning = Literal["class", "shared", "none"]
NormFactory = Callable[[int], nn.Module]


class GBlock(nn.Module):
    """Generator residual block, doubling the resolution when ``upsample`` (nearest neighbour, as BigGAN)."""

    def __init__(self, in_channels: int, out_channels: int, norm: NormFactory, spectral_norm: bool = True,
                 upsample: bool = True) -> None:
        super().__init__()
        self.upsample = upsample
        self.norm1, self.norm2 = norm(in_channels), norm(out_channels)
        self.conv1 = maybe_sn(nn.Conv2d(in_channels, out_channels, 3, padding=1), spectral_norm)
        self.conv2 = maybe_sn(nn.Conv2d(out_channels, out_channels, 3, padding=1), spectral_norm)
        learnable_shortcut = in_channels != out_channels or upsample
        self.shortcut = maybe_sn(nn.Conv2d(in_channels, out_channels, 1), spectral_norm) if learnable_shortcut else None

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        h = F.relu(self.norm1(x, condition))
        if self.upsample:
            h = F.interpolate(h, scale_factor=2.0, mode="nearest")
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        h = self.conv2(F.relu(self.norm2(self.conv1(h), condition)))
        return h + (self.shortcut(x) if self.shortcut is not None else x)


class DBlock(nn.Module):
    """Discriminator residual block, halving the resolution when ``downsample`` (2x2 average pooling)."""

    def __init__(self, in_channels: int, out_channels: int, downsample: bool = True, preactivation: bool = True,
                 spectral_norm: bool = True) -> None:
        super().__init__()
        self.downsample, self.preactivation = downsample, preactivation
        self.conv1 = maybe_sn(nn.Conv2d(in_channels, out_channels, 3, padding=1), spectral_norm)
        self.conv2 = maybe_sn(nn.Conv2d(out_channels, out_channels, 3, padding=1), spectral_norm)
        learnable_shortcut = in_channels != out_channels or downsample
        self.shortcut = maybe_sn(nn.Conv2d(in_channels, out_channels, 1), spectral_norm) if learnable_shortcut else None

    def _shortcut(self, x: torch.Tensor) -> torch.Tensor:
        # pre-activation blocks convolve first (cheaper at full resolution), the first block pools first
        if self.preactivation and self.shortcut is not None:
            x = self.shortcut(x)
        if self.downsample:
            x = F.avg_pool2d(x, 2)
        if not self.preactivation and self.shortcut is not None:
            x = self.shortcut(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(x) if self.preactivation else x  # not in place: x is still needed by the shortcut
        h = self.conv2(F.relu(self.conv1(h)))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        return h + self._shortcut(x)


class ProjectionHead(nn.Module):
    """``linear(h) + <embed(y), h>`` (Miyato & Koyama 2018); without classes (``num_classes=0``) just ``linear(h)``."""

    def __init__(self, features: int, num_classes: int = 0, spectral_norm: bool = True) -> None:
        super().__init__()
        self.linear = maybe_sn(nn.Linear(features, 1), spectral_norm)
        self.embed = maybe_sn(nn.Embedding(num_classes, features), spectral_norm) if num_classes else None

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        scores = self.linear(features).squeeze(1)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this projection discriminator is class-conditional: pass the labels")
            scores = scores + (self.embed(labels) * features).sum(dim=1)
        return scores


def _stages(image_size: int, bottom: int = 4) -> int:
    if image_size < 2 * bottom or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= {2 * bottom}, got {image_size}")
    return int(math.log2(image_size // bottom))


def generator_channels(image_size: int, width: int) -> list[int]:
    """Channels from the 4x4 input to the last block's output: BigGAN's plans (4w throughout up to 32 px,
    16w halving per block from 64 px)."""
    stages = _stages(image_size)
    if image_size <= 32:
        return [4 * width] * (stages + 1)
    multipliers = [16, 16, 8, 4, 2, 1, 1][: stages + 1]
    return [m * width for m in multipliers]


def discriminator_plan(image_size: int, channels: int, width: int) -> list[tuple[int, int, bool]]:
    """``(in, out, downsample)`` per block: BigGAN's plans (down to 8x8 then two more 4w blocks up to 32 px;
    doubling widths down to 4x4 from 64 px, then one more block)."""
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
    if image_size <= 32:
        downs = [True] * int(math.log2(image_size // 8)) + [False, False]
        ins = [channels] + [4 * width] * (len(downs) - 1)
        return [(cin, 4 * width, down) for cin, down in zip(ins, downs)]
    outs = [width * 2**i for i in range(int(math.log2(image_size // 4)))]
    outs.append(min(2 * outs[-1], 16 * width))  # a last block at 4x4, without pooling
    ins = [channels] + outs[:-1]
    return [(cin, cout, index < len(outs) - 1) for index, (cin, cout) in enumerate(zip(ins, outs))]


def discriminator_resolutions(image_size: int) -> list[int]:
    """The output resolution of each block of :func:`discriminator_plan`."""
    resolutions, size = [], image_size
    for _, _, down in discriminator_plan(image_size, 1, 1):
        size //= 2 if down else 1
        resolutions.append(size)
    return resolutions


class SNResNetGenerator(nn.Module):
    """``z`` (and labels ``y``) -> SN linear to 4x4 -> :class:`GBlock` stages -> BN-ReLU-SN conv3x3-tanh.

    ``conditioning``: ``class`` (per-class BN gains/biases, SAGAN), ``shared`` (BigGAN: a shared class embedding
    of ``shared_dim`` feeds every block's norms through linear maps) or ``none`` (plain BN, unconditional).
    ``hierarchical`` (shared only): z is split into one chunk for the input layer and one per block, each
    block's condition being ``[embedding, chunk]``.  ``attention_resolution``: self-attention after the block
    that outputs that resolution (``None``: none).
    """

    def __init__(self, latent_dim: int, channels: int, image_size: int, width: int, num_classes: int = 0,
                 conditioning: Conditioning = "class", shared_dim: int = 128, hierarchical: bool = False,
                 attention_resolution: int | None = None, spectral_norm: bool = True) -> None:
        super().__init__()
        if num_classes == 0:
            conditioning = "none"
        if hierarchical and conditioning != "shared":
            raise ValueError("a hierarchical latent feeds the shared-embedding norms: it needs conditioning='shared'")
        plan = generator_channels(image_size, width)
        stages = len(plan) - 1
        self.conditioning, self.hierarchical = conditioning, hierarchical
        self.chunk = latent_dim // (stages + 1) if hierarchical else 0
        if hierarchical and self.chunk < 1:
            raise ValueError(f"a hierarchical latent needs latent_dim >= {stages + 1} (one value per chunk)")
        self.input_dim = latent_dim - self.chunk * stages  # the first chunk takes any remainder
        self.bottom_channels = plan[0]
        self.shared = nn.Embedding(num_classes, shared_dim) if conditioning == "shared" else None
        condition_dim = shared_dim + self.chunk
        norm: NormFactory = {
            "class": lambda c: ClassConditionalBatchNorm2d(c, num_classes),
            "shared": lambda c: SharedConditionalBatchNorm2d(c, condition_dim, spectral_norm),
            "none": lambda c: PlainBatchNorm2d(c),
        }[conditioning]
        self.input = maybe_sn(nn.Linear(self.input_dim, plan[0] * 16), spectral_norm)
        self.blocks = nn.ModuleList(GBlock(cin, cout, norm, spectral_norm) for cin, cout in zip(plan, plan[1:]))
        resolutions = [4 * 2 ** (i + 1) for i in range(stages)]
        if attention_resolution and attention_resolution not in resolutions:
            raise ValueError(f"attention_resolution {attention_resolution} is not a generator feature resolution "
                             f"(allowed: {', '.join(map(str, resolutions))})")
        self.attention_after = resolutions.index(attention_resolution) if attention_resolution else None
        self.attention = SelfAttention(plan[self.attention_after + 1], spectral_norm) if self.attention_after is not None else None
        self.output = nn.Sequential(nn.BatchNorm2d(plan[-1]), nn.ReLU(),
                                    maybe_sn(nn.Conv2d(plan[-1], channels, 3, padding=1), spectral_norm), nn.Tanh())

    def _conditions(self, z: torch.Tensor, y: torch.Tensor | None) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        stages = len(self.blocks)
        if self.conditioning != "none" and y is None:
            raise ValueError("this generator is class-conditional: call it as G(z, y)")
        if self.conditioning == "class":
            return z, [y] * stages
        if self.conditioning == "none":
            return z, [None] * stages
        embedding = self.shared(y)
        if not self.hierarchical:
            return z, [embedding] * stages
        first, *chunks = torch.split(z, [self.input_dim] + [self.chunk] * stages, dim=1)
        return first, [torch.cat([embedding, chunk], dim=1) for chunk in chunks]

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        first, conditions = self._conditions(z, y)
        h = self.input(first).view(z.size(0), self.bottom_channels, 4, 4)
        for index, (block, condition) in enumerate(zip(self.blocks, conditions)):
            h = block(h, condition)
            if index == self.attention_after:
                h = self.attention(h)
        return self.output(h)


class SNResNetDiscriminator(nn.Module):
    """Images (and labels) -> :class:`DBlock` stages -> ReLU -> sum over positions -> :class:`ProjectionHead`.

    ``num_classes=0``: unconditional (no projection).  ``attention_resolution``: self-attention after the
    first block that outputs that resolution (``None``: none).
    """

    def __init__(self, channels: int, image_size: int, width: int, num_classes: int = 0,
                 attention_resolution: int | None = None, spectral_norm: bool = True) -> None:
        super().__init__()
        plan = discriminator_plan(image_size, channels, width)
        self.blocks = nn.ModuleList(DBlock(cin, cout, down, preactivation=index > 0, spectral_norm=spectral_norm)
                                    for index, (cin, cout, down) in enumerate(plan))
        resolutions = discriminator_resolutions(image_size)
        if attention_resolution and attention_resolution not in resolutions:
            raise ValueError(f"attention_resolution {attention_resolution} is not a discriminator feature resolution "
                             f"(allowed: {', '.join(map(str, sorted(set(resolutions), reverse=True)))})")
        self.attention_after = resolutions.index(attention_resolution) if attention_resolution else None
        self.attention = (SelfAttention(plan[self.attention_after][1], spectral_norm)
                          if self.attention_after is not None else None)
        self.head = ProjectionHead(plan[-1][1], num_classes, spectral_norm)

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        h = x
        for index, block in enumerate(self.blocks):
            h = block(h)
            if index == self.attention_after:
                h = self.attention(h)
        return self.head(F.relu(h).sum(dim=(2, 3)), y)
