"""Conditional BatchNorm: batch statistics without affine parameters, then a gain and bias chosen by a condition.

* :class:`ClassConditionalBatchNorm2d` (SAGAN, SN-GAN, projection-discriminator papers): a gain and a bias per
  class, looked up from the labels (gains start at 1, biases at 0).
* :class:`SharedConditionalBatchNorm2d` (BigGAN): gain ``1 + W_gamma e`` and bias ``W_beta e`` from a condition
  vector ``e`` (the shared class embedding, with the block's chunk of z when the latent is hierarchical), by
  spectrally normalised linear maps without bias, as in the authors' ``ccbn``.
* :class:`PlainBatchNorm2d`: ordinary BatchNorm that ignores the condition (unconditional generators), so every
  generator block has the same ``norm(x, condition)`` interface.
"""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.nn.spectral import maybe_sn


class ClassConditionalBatchNorm2d(nn.Module):
    """BatchNorm whose gain and bias are per-class parameters, ``condition`` = int64 labels ``(B,)``.

    Initialisation: every class's gain 1 and bias 0 (plain BatchNorm at the start)."""

    def __init__(self, num_features: int, num_classes: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features, affine=False, eps=eps, momentum=momentum)
        self.gain = nn.Embedding(num_classes, num_features)
        self.bias = nn.Embedding(num_classes, num_features)
        self.reset_condition_parameters()

    def reset_condition_parameters(self) -> None:
        """Gains 1 and biases 0 for every class (an identity after normalisation)."""
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        gain = self.gain(condition)[:, :, None, None]
        bias = self.bias(condition)[:, :, None, None]
        return self.norm(x) * gain + bias


class SharedConditionalBatchNorm2d(nn.Module):
    """BatchNorm with gain ``1 + W_gamma e`` and bias ``W_beta e``, ``condition`` = float vectors ``(B, condition_dim)``.

    Initialisation: torch's defaults for the two linear maps (re-initialise with :func:`ganzoo.nn.init.gan_init_`)."""

    def __init__(self, num_features: int, condition_dim: int, spectral_norm: bool = True, eps: float = 1e-5,
                 momentum: float = 0.1) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_features, affine=False, eps=eps, momentum=momentum)
        self.gain = maybe_sn(nn.Linear(condition_dim, num_features, bias=False), spectral_norm)
        self.bias = maybe_sn(nn.Linear(condition_dim, num_features, bias=False), spectral_norm)

    def forward(self, x: torch.Tensor, condition: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(condition)[:, :, None, None]
        bias = self.bias(condition)[:, :, None, None]
        return self.norm(x) * gain + bias


class PlainBatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` called as ``norm(x, condition)``; the condition is ignored."""

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        return super().forward(x)
