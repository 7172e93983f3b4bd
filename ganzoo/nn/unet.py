"""The pix2pix U-Net generator (Isola et al. 2017): an encoder-decoder with skip connections at every scale.

Encoder: ``num_downs`` stride-2 4x4 convolutions down to 1x1 (``num_downs = log2(image_size)``, 8 at 256 px),
widths ``ngf, 2ngf, 4ngf, 8ngf, 8ngf, ...``, LeakyReLU 0.2, normalisation on all but the first and the
innermost layer.  Decoder: ReLU, 4x4 transposed convolutions, each taking the previous decoder output
concatenated with the encoder features of the same scale, normalisation, dropout 0.5 in the
``dropout_blocks`` blocks next to the bottleneck (3 in the paper), and tanh at the output.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ganzoo.nn.init import normal_init_
from ganzoo.nn.patchgan import NormKind, norm_layer, uses_bias


def unet_downsamplings(image_size: int) -> int:
    """Stride-2 stages that take ``image_size`` down to 1x1 (8 at 256 px)."""
    if image_size < 2 or image_size & (image_size - 1):
        raise ValueError(f"the U-Net needs a power-of-two image_size >= 2, got {image_size}")
    return int(math.log2(image_size))


class UNetGenerator(nn.Module):
    """``G(x)``: ``(N, in_channels, S, S)`` -> ``(N, out_channels, S, S)`` in [-1, 1] with ``S = 2**num_downs``.

    Dropout stays active whenever the module is in training mode; the pix2pix sampler keeps it on at test
    time through :meth:`set_dropout` ("noise" in the form of dropout, as in the paper).
    Initialisation: :func:`ganzoo.nn.init.normal_init_` (the reference's: conv weights N(0, 0.02), norm gains
    N(1, 0.02), biases 0).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_downs: int,
        ngf: int = 64,
        norm: NormKind = "batch",
        dropout: float = 0.5,
        dropout_blocks: int = 3,
    ) -> None:
        super().__init__()
        if num_downs < 2:
            raise ValueError(f"the U-Net needs num_downs >= 2, got {num_downs}")
        widths = [ngf * min(2**level, 8) for level in range(num_downs)]
        bias = uses_bias(norm)
        innermost = num_downs - 1
        self.encoders = nn.ModuleList()
        for level, width in enumerate(widths):
            source = in_channels if level == 0 else widths[level - 1]
            layers: list[nn.Module] = [] if level == 0 else [nn.LeakyReLU(0.2, True)]
            layers.append(nn.Conv2d(source, width, 4, 2, 1, bias=bias))
            if 0 < level < innermost:
                layers.append(norm_layer(norm, width))
            self.encoders.append(nn.Sequential(*layers))
        self.decoders = nn.ModuleList()
        for level, width in enumerate(widths):
            source = width if level == innermost else 2 * width
            if level == 0:
                layers = [nn.ReLU(True), nn.ConvTranspose2d(source, out_channels, 4, 2, 1), nn.Tanh()]
            else:
                layers = [nn.ReLU(True), nn.ConvTranspose2d(source, widths[level - 1], 4, 2, 1, bias=bias),
                          norm_layer(norm, widths[level - 1])]
                if innermost - dropout_blocks <= level < innermost and dropout > 0:
                    layers.append(nn.Dropout(dropout))
            self.decoders.append(nn.Sequential(*layers))
        normal_init_(self)

    def set_dropout(self, active: bool) -> None:
        """Switch the decoder's dropout on or off independently of train/eval mode."""
        for module in self.modules():
            if isinstance(module, nn.Dropout):
                module.train(active)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = []
        hidden = images
        for encoder in self.encoders:
            hidden = encoder(hidden)
            features.append(hidden)
        hidden = self.decoders[-1](features[-1])
        for level in range(len(self.decoders) - 2, -1, -1):
            hidden = self.decoders[level](torch.cat([features[level], hidden], dim=1))
        return hidden
