"""DCGAN-style all-convolutional networks (Radford et al. 2015), reused by dcgan and wgan-gp.

Any power-of-two image size from 16 px: a 4x4 base, one stride-2 stage per doubling, no pooling and no
hidden fully connected layers.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from ganzoo.nn.init import normal_init_

CriticNorm = Literal["batch", "layer", "none"]


def stride2_stages(image_size: int) -> int:
    """Number of stride-2 stages between the 4x4 base and ``image_size``."""
    if image_size < 8 or image_size & (image_size - 1):
        raise ValueError(f"image_size must be a power of two >= 8, got {image_size}")
    return int(math.log2(image_size)) - 2


def _norm(kind: CriticNorm, channels: int) -> list[nn.Module]:
    if kind == "batch":
        return [nn.BatchNorm2d(channels)]
    if kind == "layer":  # normalises each sample over C, H, W: safe with a gradient penalty
        return [nn.GroupNorm(1, channels)]
    return []


class ConvGenerator(nn.Module):
    """z -> ConvT(4,1,0) to 4x4 -> [ConvT(4,2,1) + BN + ReLU] stages halving channels -> ConvT + tanh.

    ``latent_dim``: size of z (``(N, latent_dim)``); ``ngf``: channels of the last hidden stage; ``image_size``: a
    power of two (output ``(N, channels, image_size, image_size)`` in [-1, 1]).
    Initialisation: :func:`ganzoo.nn.init.normal_init_` (DCGAN's: conv weights N(0, 0.02), norm gains
    N(1, 0.02), biases 0).
    """

    def __init__(self, latent_dim: int, ngf: int, channels: int, image_size: int) -> None:
        super().__init__()
        stages = stride2_stages(image_size)
        width = ngf * 2 ** (stages - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(latent_dim, width, 4, 1, 0, bias=False), nn.BatchNorm2d(width), nn.ReLU(True)
        ]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)
        normal_init_(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z.view(z.size(0), -1, 1, 1))


class ConvDiscriminator(nn.Module):
    """[Conv(4,2,1) + norm + LeakyReLU(0.2)] stages doubling channels (no norm on the first) -> Conv(4,1,0).

    ``norm='batch'`` is DCGAN's discriminator; ``'none'`` or ``'layer'`` give a WGAN-GP critic.  Returns one
    raw score per image.
    Initialisation: :func:`ganzoo.nn.init.normal_init_` (DCGAN's: conv weights N(0, 0.02), norm gains
    N(1, 0.02), biases 0).
    """

    def __init__(self, ndf: int, channels: int, image_size: int, norm: CriticNorm = "batch") -> None:
        super().__init__()
        stages = stride2_stages(image_size)
        bias = norm == "none"
        layers: list[nn.Module] = [nn.Conv2d(channels, ndf, 4, 2, 1, bias=bias), nn.LeakyReLU(0.2, inplace=True)]
        width = ndf
        for _ in range(stages - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=bias), *_norm(norm, width * 2), nn.LeakyReLU(0.2, inplace=True)]
            width *= 2
        layers += [nn.Conv2d(width, 1, 4, 1, 0, bias=bias)]
        self.main = nn.Sequential(*layers)
        normal_init_(self)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.main(images).flatten()
