"""BigGAN's orthogonal regularisation (Brock et al. 2018, eq. 3): ``beta * ||W W^T * (1 - I)||_F^2``.

Only the off-diagonal of the filters' Gram matrix is penalised (filters are pushed towards orthogonality
without constraining their norms).  Every weight with two or more dimensions is penalised, each reshaped to
``(outputs, inputs)``, except embeddings (the paper and the authors' code skip the shared class embedding).
For a spectrally normalised layer the raw (trained) weight is the one penalised, as in the authors' code.
Add the result to a loss, e.g. from a plugin's ``ganzoo_extra_loss`` hook with role ``"generator"``.
"""

from __future__ import annotations

from typing import Iterator

import torch
from torch import nn
from torch.nn.utils import parametrize

ORTHOGONAL_BETA = 1e-4
"""The paper's strength beta."""


def regularised_weights(module: nn.Module, skip: tuple[type[nn.Module], ...] = (nn.Embedding,)) -> Iterator[torch.Tensor]:
    """The trained weights the regulariser applies to: matrices and conv kernels of every layer not in ``skip``."""
    for layer in module.modules():
        if isinstance(layer, skip):
            continue
        if parametrize.is_parametrized(layer, "weight"):
            weight = layer.parametrizations["weight"].original
        else:
            weight = layer._parameters.get("weight")
        if weight is not None and weight.requires_grad and weight.dim() >= 2:
            yield weight


def orthogonal_penalty(module: nn.Module, beta: float = ORTHOGONAL_BETA,
                       skip: tuple[type[nn.Module], ...] = (nn.Embedding,)) -> torch.Tensor:
    """``beta * sum_W ||W W^T * (1 - I)||_F^2`` over :func:`regularised_weights` (0 when there are none)."""
    total = None
    for weight in regularised_weights(module, skip):
        matrix = weight.flatten(1)
        gram = matrix @ matrix.T
        off_diagonal = gram - torch.diag_embed(torch.diagonal(gram))
        term = off_diagonal.pow(2).sum()
        total = term if total is None else total + term
    if total is None:
        return torch.zeros(())
    return beta * total
