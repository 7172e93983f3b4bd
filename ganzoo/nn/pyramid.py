"""Laplacian pyramids: the one pair of down/up-sampling operators that LAPGAN trains and samples with.

Denton et al. (2015) stress that the image a level is conditioned on in training, ``l_k = up(down(I_k))``,
must be made by exactly the operators used when sampling coarse to fine; otherwise each level learns to
correct an upsampling it never sees at test time.  Everything here is built on :func:`downsample` and
:func:`upsample`, and :func:`reconstruct` inverts :func:`laplacian_pyramid` exactly (up to float rounding).

A pyramid of ``levels`` levels is a list, coarsest first: ``[I_0, h_1, ..., h_{L-1}]`` where ``I_0`` is the
low-pass image at ``size / 2**(levels-1)`` pixels and ``h_k = I_k - upsample(I_{k-1})`` the band-pass residual
at ``size / 2**(levels-1-k)`` pixels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import reduce


def downsample(images: torch.Tensor) -> torch.Tensor:
    """Halve the resolution by averaging 2x2 blocks (a box low-pass filter, no aliasing of odd pixels)."""
    _check_images(images, even=True)
    return reduce(images, "b c (h 2) (w 2) -> b c h w", "mean")


def upsample(images: torch.Tensor) -> torch.Tensor:
    """Double the resolution with bilinear interpolation (eyescream's ``image.scale`` is bilinear too)."""
    _check_images(images)
    return F.interpolate(images, scale_factor=2, mode="bilinear", align_corners=False)


def gaussian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """The image at every level, coarsest first: ``[I_0, ..., I_{L-1} = images]``."""
    _check_levels(images, levels)
    scales = [images]
    for _ in range(levels - 1):
        scales.append(downsample(scales[-1]))
    return scales[::-1]


def laplacian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """``[I_0, h_1, ..., h_{L-1}]``: the coarsest image then the band-pass residuals, coarsest first."""
    scales = gaussian_pyramid(images, levels)
    return [scales[0]] + [fine - upsample(coarse) for coarse, fine in zip(scales[:-1], scales[1:])]


def reconstruct(pyramid: list[torch.Tensor]) -> torch.Tensor:
    """Invert :func:`laplacian_pyramid`: ``I_k = upsample(I_{k-1}) + h_k`` up to the finest level."""
    if not pyramid:
        raise ValueError("reconstruct() needs a non-empty pyramid [I_0, h_1, ...]")
    image = pyramid[0]
    for band in pyramid[1:]:
        image = upsample(image) + band
    return image


def _check_images(images: torch.Tensor, even: bool = False) -> None:
    if images.dim() != 4:
        raise ValueError(f"pyramid operators take (N, C, H, W) images, got shape {tuple(images.shape)}")
    if even and (images.shape[-1] % 2 or images.shape[-2] % 2):
        raise ValueError(f"cannot halve an image of {images.shape[-2]}x{images.shape[-1]} pixels: sizes must be even")


def _check_levels(images: torch.Tensor, levels: int) -> None:
    _check_images(images)
    if levels < 1:
        raise ValueError(f"a pyramid needs at least 1 level, got {levels}")
    factor = 2 ** (levels - 1)
    height, width = images.shape[-2:]
    if height % factor or width % factor:
        raise ValueError(f"{levels} pyramid levels need image sizes divisible by {factor}, got {height}x{width}")
