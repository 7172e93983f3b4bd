"""LAPGAN's networks: a fully connected GAN at the coarsest scale and one conditional conv GAN per finer level.

The pyramid's generators live in one module (:class:`LaplacianGenerator`) and its discriminators in another
(:class:`LaplacianDiscriminator`).  The levels share no parameters and each level's loss reaches only its own
networks, so one optimizer per module steps every level exactly as separate per-level optimizers would
(SGD and Adam update each parameter from its own gradient): the levels are still trained independently.

Layer choices follow facebook/eyescream (``train_cifar.lua``, ``train_cifar_coarse_to_fine*.lua``): the base G
is Linear-ReLU-Linear-Sigmoid-Linear, the base D two ReLU+dropout hidden layers; a level G takes a uniform
noise plane and the upsampled coarse image (plus a class plane in the class-conditional model) through
conv7-ReLU-conv7-ReLU-conv5 and outputs the band-pass residual (no normalisation, no tanh); a level D adds
the residual to the coarse image before conv5-ReLU-conv5/2-ReLU-dropout-linear.
"""

from __future__ import annotations

from typing import Mapping

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from ganzoo.nn.pyramid import laplacian_pyramid, upsample


def level_sizes(image_size: int, levels: int) -> list[int]:
    """Side of the images at every level, coarsest first (32 px, 3 levels: 8, 16, 32)."""
    return [image_size // 2 ** (levels - 1 - k) for k in range(levels)]


def noise_name(size: int) -> str:
    """The keyword (and latent name) of the noise plane of the level that makes ``size``-pixel images."""
    return f"noise_{size}"


class ClassPlane(nn.Module):
    """One-hot class -> linear -> ReLU -> one ``size`` x ``size`` plane (CC-LAPGAN's conditioning)."""

    def __init__(self, num_classes: int, size: int) -> None:
        super().__init__()
        self.num_classes, self.size = num_classes, size
        self.linear = nn.Linear(num_classes, size * size)

    def forward(self, labels: torch.Tensor) -> torch.Tensor:
        plane = F.relu(self.linear(F.one_hot(labels, self.num_classes).float()))
        return rearrange(plane, "n (h w) -> n 1 h w", h=self.size)


def _one_hot(labels: torch.Tensor | None, num_classes: int) -> list[torch.Tensor]:
    return [] if not num_classes else [F.one_hot(labels, num_classes).float()]


class BaseGenerator(nn.Module):
    """The coarsest level: noise (and one-hot class) -> fully connected -> a ``size`` px image in [-1, 1]."""

    def __init__(self, latent_dim: int, hidden: int, channels: int, size: int, num_classes: int = 0) -> None:
        super().__init__()
        self.channels, self.size, self.num_classes = channels, size, num_classes
        self.net = nn.Sequential(
            nn.Linear(latent_dim + num_classes, hidden), nn.ReLU(),
            nn.Linear(hidden, hidden), nn.Sigmoid(),
            nn.Linear(hidden, channels * size * size), nn.Tanh(),  # tanh: ganzoo images live in [-1, 1]
        )
        for layer in self.net:
            if isinstance(layer, nn.Linear):  # eyescream's init: N(0, 0.05) weights, zero biases
                nn.init.normal_(layer.weight, std=0.05)
                nn.init.zeros_(layer.bias)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        flat = self.net(torch.cat([z, *_one_hot(labels, self.num_classes)], dim=1))
        return rearrange(flat, "n (c h w) -> n c h w", c=self.channels, h=self.size)


class BaseDiscriminator(nn.Module):
    """The coarsest level's D: image (and one-hot class) -> two ReLU + dropout layers -> one logit."""

    def __init__(self, hidden: int, channels: int, size: int, num_classes: int = 0, dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.net = nn.Sequential(
            nn.Linear(channels * size * size + num_classes, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, 1),
        )
        for layer in self.net:
            if isinstance(layer, nn.Linear):  # eyescream's init: N(0, 0.005) weights, zero biases
                nn.init.normal_(layer.weight, std=0.005)
                nn.init.zeros_(layer.bias)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        flat = rearrange(images, "n c h w -> n (c h w)")
        return self.net(torch.cat([flat, *_one_hot(labels, self.num_classes)], dim=1)).squeeze(1)


class LevelGenerator(nn.Module):
    """G_k(noise plane, upsampled coarse image [, class plane]) -> the band-pass residual h_k."""

    def __init__(self, channels: int, hidden: int, size: int, num_classes: int = 0) -> None:
        super().__init__()
        self.size = size
        self.class_plane = ClassPlane(num_classes, size) if num_classes else None
        inputs = 1 + channels + (1 if num_classes else 0)
        self.net = nn.Sequential(
            nn.Conv2d(inputs, hidden, 7, padding=3), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 7, padding=3), nn.ReLU(),
            nn.Conv2d(hidden, channels, 5, padding=2),
        )

    def forward(self, noise: torch.Tensor, coarse: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        planes = [noise, coarse] + ([self.class_plane(labels)] if self.class_plane is not None else [])
        return self.net(torch.cat(planes, dim=1))


class LevelDiscriminator(nn.Module):
    """D_k(residual, coarse image [, class]): residual + coarse -> conv5-ReLU-conv5/2-ReLU-dropout-linear."""

    def __init__(self, channels: int, hidden: int, size: int, num_classes: int = 0, dropout: float = 0.5) -> None:
        super().__init__()
        self.class_plane = ClassPlane(num_classes, size) if num_classes else None
        inputs = channels + (1 if num_classes else 0)
        # padding keeps 8 px levels valid (eyescream's unpadded convs need at least 14 px)
        self.features = nn.Sequential(
            nn.Conv2d(inputs, hidden, 5, padding=2), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 5, stride=2, padding=2), nn.ReLU(), nn.Dropout(dropout),
        )
        self.head = nn.Linear(hidden * (size // 2) ** 2, 1)

    def forward(self, residual: torch.Tensor, coarse: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        planes = [residual + coarse] + ([self.class_plane(labels)] if self.class_plane is not None else [])
        features = self.features(torch.cat(planes, dim=1))
        return self.head(rearrange(features, "n c h w -> n (c h w)")).squeeze(1)


class LaplacianGenerator(nn.Module):
    """All generators of the pyramid; ``forward`` samples coarse to fine and returns the finest image.

    ``forward(z, y=None, **planes)`` (the core's calling convention for several latents): ``z`` is the base
    level's uniform noise, ``planes`` the noise planes of the finer levels by :func:`noise_name` (flat
    ``(N, S*S)`` as declared, or ``(N, 1, S, S)``; uniform in [-1, 1]); missing planes are drawn from the global
    random generator.
    """

    def __init__(self, latent_dim: int, channels: int, image_size: int, levels: int, base_hidden: int, hidden: int,
                 num_classes: int = 0) -> None:
        super().__init__()
        self.sizes = level_sizes(image_size, levels)
        self.base = BaseGenerator(latent_dim, base_hidden, channels, self.sizes[0], num_classes)
        self.levels = nn.ModuleList(LevelGenerator(channels, hidden, size, num_classes) for size in self.sizes[1:])

    def noise_plane(self, level: int, planes: Mapping[str, torch.Tensor], num: int | None = None,
                    like: torch.Tensor | None = None) -> torch.Tensor:
        """The ``(N, 1, S, S)`` noise plane of finer level ``level`` (1-based) from ``planes``, or freshly drawn
        (``num`` planes on ``like``'s device) when not given."""
        size = self.sizes[level]
        given = planes.get(noise_name(size))
        if given is None:
            assert num is not None and like is not None, f"no noise plane {noise_name(size)} given"
            return torch.rand(num, 1, size, size, device=like.device, dtype=like.dtype) * 2 - 1
        return rearrange(given.reshape(given.size(0), -1), "n (h w) -> n 1 h w", h=size)

    def sample_levels(self, z: torch.Tensor, labels: torch.Tensor | None = None, **planes: torch.Tensor) -> list[torch.Tensor]:
        """The sample at every scale, coarsest first: ``I_k = clamp(upsample(I_{k-1}) + G_k(noise, upsample(I_{k-1})))``."""
        unknown = set(planes) - {noise_name(size) for size in self.sizes[1:]}
        if unknown:
            raise TypeError(f"unknown noise planes {sorted(unknown)}; this pyramid has "
                            f"{[noise_name(size) for size in self.sizes[1:]]}")
        images = [self.base(z, labels)]
        for k, level in enumerate(self.levels, start=1):
            coarse = upsample(images[-1])
            residual = level(self.noise_plane(k, planes, z.size(0), coarse), coarse, labels)
            images.append((coarse + residual).clamp(-1, 1))
        return images

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None, **planes: torch.Tensor) -> torch.Tensor:
        return self.sample_levels(z, y, **planes)[-1]


class LaplacianDiscriminator(nn.Module):
    """All discriminators of the pyramid; ``forward(images)`` scores every level of an image's pyramid.

    Training calls the levels directly with real coarse images (:meth:`score_level`); ``forward`` returns
    ``(N, levels)`` logits for whole images, the pyramid seen as one critic.
    """

    def __init__(self, channels: int, image_size: int, levels: int, base_hidden: int, hidden: int,
                 num_classes: int = 0, dropout: float = 0.5) -> None:
        super().__init__()
        self.sizes = level_sizes(image_size, levels)
        self.base = BaseDiscriminator(base_hidden, channels, self.sizes[0], num_classes, dropout)
        self.levels = nn.ModuleList(
            LevelDiscriminator(channels, hidden, size, num_classes, dropout) for size in self.sizes[1:]
        )

    def score_level(self, level: int, image_or_residual: torch.Tensor, coarse: torch.Tensor | None,
                    labels: torch.Tensor | None = None) -> torch.Tensor:
        """Level 0 scores a coarsest image; level k > 0 a residual given the upsampled coarser image."""
        if level == 0:
            return self.base(image_or_residual, labels)
        return self.levels[level - 1](image_or_residual, coarse, labels)

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        pyramid = laplacian_pyramid(images, len(self.sizes))
        scores, coarse_image = [self.base(pyramid[0], labels)], pyramid[0]
        for level, band in zip(self.levels, pyramid[1:]):
            coarse = upsample(coarse_image)
            scores.append(level(band, coarse, labels))
            coarse_image = coarse + band
        return torch.stack(scores, dim=1)
