"""The CycleGAN ResNet generator (Johnson et al. 2016 as used by Zhu et al. 2017).

Reflection pad 3 + 7x7 conv (``ngf``) - two stride-2 3x3 convs (2ngf, 4ngf) - ``n_blocks`` residual blocks
(reflection-padded 3x3 convs) - two stride-2 transposed convs - reflection pad 3 + 7x7 conv - tanh, with
normalisation and ReLU after every conv but the last.  9 blocks at 256 px, 6 at 128 px and below.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.nn.init import normal_init_
from ganzoo.nn.patchgan import NormKind, norm_layer, uses_bias


def resnet_blocks_for(image_size: int) -> int:
    """The reference's block count: 9 above 128 px, 6 at 128 px and below."""
    return 9 if image_size > 128 else 6


class ResidualBlock(nn.Module):
    """``x + F(x)`` with ``F`` = pad - conv3 - norm - ReLU - (dropout) - pad - conv3 - norm.

    Initialisation: torch's defaults on its own; inside :class:`ResnetGenerator`, that generator's."""

    def __init__(self, channels: int, norm: NormKind, dropout: float = 0.0, padding: str = "reflect") -> None:
        super().__init__()
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(channels, channels, 3, padding=1, padding_mode=padding, bias=bias),
                                   norm_layer(norm, channels), nn.ReLU(True)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.Conv2d(channels, channels, 3, padding=1, padding_mode=padding, bias=bias), norm_layer(norm, channels)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """``G(x)``: ``(N, in_channels, S, S)`` -> ``(N, out_channels, S, S)`` in [-1, 1]; ``S`` divisible by 4.

    Initialisation: :func:`ganzoo.nn.init.normal_init_` (the reference's: conv weights N(0, 0.02), norm gains
    N(1, 0.02), biases 0)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        ngf: int = 64,
        n_blocks: int = 9,
        norm: NormKind = "instance",
        dropout: float = 0.0,
        n_downsampling: int = 2,
    ) -> None:
        super().__init__()
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, ngf, 7, bias=bias),
                                   norm_layer(norm, ngf), nn.ReLU(True)]
        width = ngf
        for _ in range(n_downsampling):
            layers += [nn.Conv2d(width, width * 2, 3, 2, 1, bias=bias), norm_layer(norm, width * 2), nn.ReLU(True)]
            width *= 2
        layers += [ResidualBlock(width, norm, dropout) for _ in range(n_blocks)]
        for _ in range(n_downsampling):
            layers += [nn.ConvTranspose2d(width, width // 2, 3, 2, 1, output_padding=1, bias=bias),
                       norm_layer(norm, width // 2), nn.ReLU(True)]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(width, out_channels, 7), nn.Tanh()]
        self.n_downsampling = n_downsampling
        self.net = nn.Sequential(*layers)
        normal_init_(self)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[-1] % 2**self.n_downsampling or images.shape[-2] % 2**self.n_downsampling:
            raise ValueError(
                f"ResnetGenerator needs image sides divisible by {2**self.n_downsampling}, got {tuple(images.shape[-2:])}"
            )
        return self.net(images)
