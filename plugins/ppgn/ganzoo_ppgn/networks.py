"""PPGN's trainable networks: the generator G (h -> image) and the learned prior R, a DAE over h.

G follows the DeePSiM / PPGN generator: a stack of fully connected layers on the code, a reshape to a 4x4
map, then up-convolutions (each followed by a 3x3 convolution) to the image, LeakyReLU(0.3) everywhere and
no BatchNorm; a final tanh puts images in ganzoo's [-1, 1].  The image discriminator is the core's
:class:`ganzoo.nn.conv.ConvDiscriminator` without normalisation.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.nn.conv import stride2_stages

LEAKY_SLOPE = 0.3  # the paper's generator


def _leaky() -> nn.Module:
    return nn.LeakyReLU(LEAKY_SLOPE, inplace=True)


class CodeGenerator(nn.Module):
    """G: h -> image.  ``fc_layers`` linear layers of ``fc_width`` units, then deconvolutions to ``image_size``.

    Called as ``G(h)`` or ``G(h, labels)`` (labels are ignored: PPGN conditions through the classifier).
    """

    def __init__(self, code_dim: int, channels: int, image_size: int, ngf: int = 32, fc_width: int = 512,
                 fc_layers: int = 3) -> None:
        super().__init__()
        stages = stride2_stages(image_size)
        self.base_channels = ngf * 2 ** (stages - 1)
        widths = [code_dim] + [fc_width] * (fc_layers - 1) + [self.base_channels * 16]
        fc: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:]):
            fc += [nn.Linear(cin, cout), _leaky()]
        self.fc = nn.Sequential(*fc)
        width = self.base_channels
        convs: list[nn.Module] = []
        for _ in range(stages):
            out = max(width // 2, ngf // 2)
            convs += [nn.ConvTranspose2d(width, out, 4, 2, 1), _leaky(), nn.Conv2d(out, out, 3, 1, 1), _leaky()]
            width = out
        convs += [nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh()]
        self.convs = nn.Sequential(*convs)

    def forward(self, code: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        from einops import rearrange

        base = rearrange(self.fc(code), "n (c h w) -> n c h w", h=4, w=4)
        return self.convs(base)


class CodeDAE(nn.Module):
    """R: a denoising autoencoder over h (an MLP), the learned prior whose R(h) - h estimates the score.

    ``hidden`` units in each of ``layers`` hidden layers (LeakyReLU) and a linear output (the sampler clips
    codes to their real range, so the output needs no non-negativity of its own).
    """

    def __init__(self, code_dim: int, hidden: int = 256, layers: int = 3) -> None:
        super().__init__()
        widths = [code_dim] + [hidden] * layers
        body: list[nn.Module] = []
        for cin, cout in zip(widths[:-1], widths[1:]):
            body += [nn.Linear(cin, cout), _leaky()]
        body.append(nn.Linear(widths[-1], code_dim))
        self.body = nn.Sequential(*body)

    def forward(self, code: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.body(code)


class ImageDiscriminator(nn.Module):
    """The image discriminator: the core's ConvDiscriminator without normalisation; labels are ignored."""

    def __init__(self, ndf: int, channels: int, image_size: int) -> None:
        super().__init__()
        from ganzoo.nn.conv import ConvDiscriminator

        self.net = ConvDiscriminator(ndf, channels, image_size, norm="none")

    def forward(self, images: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(images)
