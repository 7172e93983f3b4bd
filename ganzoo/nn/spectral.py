"""Spectral normalisation (Miyato et al. 2018) through ``torch.nn.utils.parametrizations.spectral_norm``.

One power iteration per training forward pass; the ``u``/``v`` estimates are persistent buffers (saved in
checkpoints) and stay fixed in eval mode, so sampling never changes a network.  A copy whose weights are
averaged rather than trained (the EMA of a generator) averages ``u``/``v`` too, which leaves them neither unit
vectors nor the singular vectors of the averaged weight: :func:`refresh_spectral_norms` re-estimates them, and
:meth:`ganzoo.state.GANState.update_ema` calls it after every EMA update.
"""

from __future__ import annotations

from typing import Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm as _torch_spectral_norm

POWER_ITERATIONS = 1
"""Power iterations per training forward pass (SN-GAN, SAGAN and BigGAN all use one)."""
INITIAL_ITERATIONS = 15
"""Iterations that settle ``u``/``v`` on a freshly initialised weight (torch's own number)."""


def spectral_norm(module: nn.Module, n_power_iterations: int = POWER_ITERATIONS) -> nn.Module:
    """``module`` with its ``weight`` divided by its largest singular value (estimated by power iteration)."""
    return _torch_spectral_norm(module, n_power_iterations=n_power_iterations)


def sn_conv2d(in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1,
              padding: int | None = None, bias: bool = True) -> nn.Module:
    """A spectrally normalised ``nn.Conv2d`` ("same" padding unless ``padding`` is given)."""
    padding = kernel_size // 2 if padding is None else padding
    return spectral_norm(nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=bias))


def sn_linear(in_features: int, out_features: int, bias: bool = True) -> nn.Module:
    """A spectrally normalised ``nn.Linear``."""
    return spectral_norm(nn.Linear(in_features, out_features, bias=bias))


def sn_embedding(num_embeddings: int, embedding_dim: int) -> nn.Module:
    """A spectrally normalised ``nn.Embedding`` (the projection discriminator's class embedding)."""
    return spectral_norm(nn.Embedding(num_embeddings, embedding_dim))


def maybe_sn(module: nn.Module, enabled: bool) -> nn.Module:
    """``spectral_norm(module)`` when ``enabled``, else ``module`` unchanged."""
    return spectral_norm(module) if enabled else module


def spectral_norm_layers(module: nn.Module) -> Iterator[tuple[nn.Module, nn.Module]]:
    """``(layer, parametrization)`` for every spectrally normalised weight inside ``module``."""
    for layer in module.modules():
        if not parametrize.is_parametrized(layer, "weight"):
            continue
        for parametrization in layer.parametrizations["weight"]:
            if hasattr(parametrization, "_u") and hasattr(parametrization, "_v"):
                yield layer, parametrization


def unnormalised_weight(layer: nn.Module) -> torch.Tensor:
    """The raw (trained) weight of a spectrally normalised layer, before the division by sigma."""
    return layer.parametrizations["weight"].original


def _weight_matrix(weight: torch.Tensor, dim: int) -> torch.Tensor:
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.dim()) if d != dim))
    return weight.flatten(1)


@torch.no_grad()
def refresh_spectral_norms(module: nn.Module, iterations: int = 1) -> int:
    """Run ``iterations`` power iterations on every spectral norm in ``module`` from its current ``u``/``v``.

    For a network whose weights changed without a training forward pass (an EMA copy, freshly written
    weights): afterwards ``u``/``v`` are unit vectors estimated on the current weight, so eval-mode forward
    passes divide by the right sigma.  Returns the number of layers refreshed.
    """
    count = 0
    for layer, norm in spectral_norm_layers(module):
        matrix = _weight_matrix(unnormalised_weight(layer), getattr(norm, "dim", 0))
        u, v = norm._u, norm._v
        for _ in range(iterations):
            u.copy_(F.normalize(torch.mv(matrix, v), dim=0, eps=norm.eps))
            v.copy_(F.normalize(torch.mv(matrix.H, u), dim=0, eps=norm.eps))
        count += 1
    return count


def largest_singular_value(layer: nn.Module) -> float:
    """The exact spectral norm of the weight a layer uses now (for tests and diagnostics)."""
    weight = layer.weight.detach()
    return float(torch.linalg.matrix_norm(weight.flatten(1), ord=2))
