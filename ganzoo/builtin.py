"""The core's own plugin: the standard adversarial losses, registered like any plugin's."""

from __future__ import annotations

from typing import Any, Callable

from ganzoo.hookspecs import hookimpl
from ganzoo.specs import LossSpec


def _lazy(class_name: str) -> Callable[[], Any]:
    def factory() -> Any:
        from ganzoo import losses

        return getattr(losses, class_name)()

    return factory


@hookimpl
def ganzoo_register_losses(register: Callable[[LossSpec], None]) -> None:
    """Register the standard and the relativistic average losses."""
    register(LossSpec("non-saturating", _lazy("NonSaturatingLoss"), "BCE; G maximises log D(G(z)) (Goodfellow 2014)"))
    register(LossSpec("minimax", _lazy("MinimaxLoss"), "BCE; G minimises log(1 - D(G(z))), the original game"))
    register(LossSpec("hinge", _lazy("HingeLoss"), "hinge loss for D, -D(G(z)) for G (Lim & Ye 2017; SAGAN, BigGAN)"))
    register(LossSpec("wasserstein", _lazy("WassersteinLoss"), "critic E[D(fake)] - E[D(real)] (Arjovsky 2017)"))
    register(LossSpec("least-squares", _lazy("LeastSquaresLoss"), "LSGAN: (D(x)-1)^2 + D(G(z))^2 (Mao 2017; CycleGAN)"))
    register(LossSpec("rasgan", _lazy("RaSGANLoss"),
                      "relativistic average standard GAN; G also sees real scores (Jolicoeur-Martineau 2018)"))
    register(LossSpec("ralsgan", _lazy("RaLSGANLoss"), "relativistic average least squares (Jolicoeur-Martineau 2018)"))
    register(LossSpec("rahinge", _lazy("RaHingeLoss"), "relativistic average hinge loss (Jolicoeur-Martineau 2018)"))
