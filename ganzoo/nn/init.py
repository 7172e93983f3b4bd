"""Weight initialisation schemes used by the reference implementations."""

from __future__ import annotations

import torch
from torch import nn

_CONV_LIKE = (nn.Conv1d, nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.InstanceNorm2d)


def normal_init_(module: nn.Module, std: float = 0.02) -> nn.Module:
    """DCGAN-style init, in place: conv/linear weights N(0, std), norm gains N(1, std), biases 0.

    Used by DCGAN (Radford et al. 2015), pix2pix and CycleGAN (their ``init_type='normal'``).
    Returns the module for chaining.
    """
    for layer in module.modules():
        if isinstance(layer, _CONV_LIKE):
            nn.init.normal_(layer.weight, 0.0, std)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)
        elif isinstance(layer, _NORMS) and layer.weight is not None:
            nn.init.normal_(layer.weight, 1.0, std)
            nn.init.zeros_(layer.bias)
    return module


def gan_init_(module: nn.Module, scheme: str = "normal", std: float = 0.02) -> nn.Module:
    """Initialise every conv, linear and embedding weight of ``module`` in place, spectrally normalised or not.

    ``scheme``: ``normal`` (N(0, std), BigGAN's CIFAR script ``--G_init N02``), ``xavier`` (Glorot uniform,
    SN-GAN) or ``ortho`` (orthogonal, BigGAN's default).  Biases become 0.  Spectral norms are then re-estimated
    on the new weights, and modules with a ``reset_condition_parameters`` method (conditional norms whose gains
    must start at 1) reset themselves afterwards.
    """
    from torch.nn.utils import parametrize

    from ganzoo.nn.spectral import INITIAL_ITERATIONS, refresh_spectral_norms

    initialisers = {"normal": lambda w: nn.init.normal_(w, 0.0, std), "xavier": nn.init.xavier_uniform_,
                    "ortho": nn.init.orthogonal_}
    if scheme not in initialisers:
        raise ValueError(f"unknown init scheme {scheme!r} (allowed: {', '.join(initialisers)})")
    for layer in module.modules():
        if not isinstance(layer, (*_CONV_LIKE, nn.Embedding)):
            continue
        weight = layer.parametrizations["weight"].original if parametrize.is_parametrized(layer, "weight") else layer.weight
        with torch.no_grad():
            initialisers[scheme](weight)
        if getattr(layer, "bias", None) is not None:
            nn.init.zeros_(layer.bias)
    refresh_spectral_norms(module, INITIAL_ITERATIONS)
    for layer in module.modules():
        if hasattr(layer, "reset_condition_parameters"):
            layer.reset_condition_parameters()
    return module
