"""PatchGAN discriminators (Isola et al. 2017): a fully convolutional net scoring overlapping image patches.

``n_layers`` stride-2 convolutions (the first without normalisation) are followed by two stride-1
convolutions, the last producing one logit per patch.  With 4x4 kernels the patch (receptive field) is
16, 34, 70, 142 or 286 pixels for ``n_layers`` 1 to 5; the papers' "70x70 PatchGAN" is ``n_layers=3``.
Also home of :func:`norm_layer`, the normalisation choice shared by the image-to-image networks.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from ganzoo.nn.init import normal_init_

NormKind = Literal["batch", "instance", "none"]
NORM_KINDS: tuple[str, ...] = NormKind.__args__  # type: ignore[attr-defined]
KERNEL_SIZE = 4


def norm_layer(kind: NormKind, channels: int) -> nn.Module:
    """BatchNorm, InstanceNorm without affine parameters or running statistics (the CycleGAN/pix2pix
    reference choice), or identity."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORM_KINDS)}; got {kind!r}")


def uses_bias(kind: NormKind) -> bool:
    """Convolutions followed by BatchNorm need no bias (its shift replaces it); the reference keeps one otherwise."""
    return kind != "batch"


def patch_layer_strides(n_layers: int) -> list[int]:
    """Strides of the convolutions of an ``n_layers`` PatchGAN, input to output."""
    return [2] * n_layers + [1, 1]


def receptive_field(n_layers: int, kernel_size: int = KERNEL_SIZE) -> int:
    """Side in pixels of the input patch that one output logit sees (70 for ``n_layers=3`` at kernel 4)."""
    field = 1
    for stride in reversed(patch_layer_strides(n_layers)):
        field = (field - 1) * stride + kernel_size
    return field


def max_patch_layers(image_size: int) -> int:
    """Most stride-2 layers an ``image_size`` input allows (the two stride-1 convolutions need a 3x3 map)."""
    return max(int(math.log2(image_size)) - 2, 0) if image_size >= 4 else 0


def patch_output_size(image_size: int, n_layers: int) -> int:
    """Side of the logit map for a square ``image_size`` input (each 4x4, padding-1 conv: stride-2 halves,
    stride-1 shrinks by one)."""
    side = image_size
    for stride in patch_layer_strides(n_layers):
        side = (side + 2 - KERNEL_SIZE) // stride + 1
    return side


class PatchDiscriminator(nn.Module):
    """C64 (no norm) - C128 - C256 - C512 (stride 1) - 1-channel logit map, LeakyReLU 0.2, for ``n_layers=3``.

    Widths double per layer from ``ndf`` up to ``8 * ndf``.  Conditional discriminators (pix2pix) take the
    source and output images concatenated along channels: set ``in_channels`` to their sum.
    Initialisation: :func:`ganzoo.nn.init.normal_init_` (the reference's: conv weights N(0, 0.02), norm gains
    N(1, 0.02), biases 0).
    """

    def __init__(self, in_channels: int, ndf: int = 64, n_layers: int = 3, norm: NormKind = "batch") -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"a PatchGAN needs n_layers >= 1, got {n_layers}")
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, ndf, KERNEL_SIZE, 2, 1), nn.LeakyReLU(0.2, True)]
        width = ndf
        for index in range(1, n_layers + 1):
            stride = 2 if index < n_layers else 1
            out = ndf * min(2**index, 8)
            layers += [nn.Conv2d(width, out, KERNEL_SIZE, stride, 1, bias=bias), norm_layer(norm, out),
                       nn.LeakyReLU(0.2, True)]
            width = out
        layers.append(nn.Conv2d(width, 1, KERNEL_SIZE, 1, 1))
        self.n_layers = n_layers
        self.net = nn.Sequential(*layers)
        normal_init_(self)

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.n_layers)

    def forward(self, images: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(N, 1, h, w)`` for ``images`` (concatenated with ``condition`` along channels when given)."""
        if condition is not None:
            images = torch.cat([condition, images], dim=1)
        return self.net(images)
