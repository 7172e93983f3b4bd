"""Weight initialisation schemes used by the reference implementations."""

from __future__ import annotations

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
