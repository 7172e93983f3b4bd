"""SAGAN's self-attention layer (Zhang et al. 2018), as in the authors' TensorFlow code.

Queries ``theta`` and keys ``phi`` are 1x1 convolutions to C/8 channels, values ``g`` to C/2; keys and values
are 2x2 max-pooled (a quarter of the positions); the attention-weighted values pass a 1x1 convolution back to
C channels and are added to the input scaled by ``sigma``, a learned scalar initialised to 0 (so the network
starts local and learns how much non-local evidence to use).  All convolutions are spectrally normalised.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import einsum, rearrange
from torch import nn

from ganzoo.nn.spectral import maybe_sn


class SelfAttention(nn.Module):
    """``x + sigma * o(softmax(theta(x)^T phi(x)) g(x))`` over all positions of a feature map of ``channels``."""

    def __init__(self, channels: int, spectral_norm: bool = True) -> None:
        super().__init__()
        if channels < 8:
            raise ValueError(f"self-attention needs at least 8 channels (C/8 queries), got {channels}")
        self.theta = maybe_sn(nn.Conv2d(channels, channels // 8, 1, bias=False), spectral_norm)
        self.phi = maybe_sn(nn.Conv2d(channels, channels // 8, 1, bias=False), spectral_norm)
        self.g = maybe_sn(nn.Conv2d(channels, channels // 2, 1, bias=False), spectral_norm)
        self.o = maybe_sn(nn.Conv2d(channels // 2, channels, 1, bias=False), spectral_norm)
        self.sigma = nn.Parameter(torch.zeros(()))

    def attention_map(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, H*W, H*W/4)``: for each position, its softmax weights over the pooled key positions."""
        queries = rearrange(self.theta(x), "b c h w -> b (h w) c")
        keys = rearrange(F.max_pool2d(self.phi(x), 2), "b c h w -> b (h w) c")
        return einsum(queries, keys, "b q c, b k c -> b q k").softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[-2:]
        if height % 2 or width % 2:
            raise ValueError(f"self-attention max-pools keys 2x2: feature maps must have even sides, got {height}x{width}")
        values = rearrange(F.max_pool2d(self.g(x), 2), "b c h w -> b (h w) c")
        attended = einsum(self.attention_map(x), values, "b q k, b k c -> b q c")
        attended = rearrange(attended, "b (h w) c -> b c h w", h=height, w=width)
        return x + self.sigma * self.o(attended)
