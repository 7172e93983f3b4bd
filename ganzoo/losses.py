"""Adversarial losses and the gradient penalty, shared by every model.

A loss object turns discriminator outputs (raw scores: one per sample or a patch map) into the two
players' objectives.  Losses are looked up by name (``--loss hinge``), so any model that keeps the default
``ganzoo_loss`` hook can be trained with any of them.

Relativistic losses compare real and fake scores in *both* players' objectives, so the generator loss of a
class with ``generator_needs_real_scores = True`` receives the real scores too; train steps call
:func:`generator_objective`, which passes them only to the losses that ask for them (losses written for API 1
keep their one-argument ``generator_loss``).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn


class GANLoss:
    """Base class: subclasses define both players' objectives from discriminator scores.

    ``generator_needs_real_scores``: set it to ``True`` when :meth:`generator_loss` uses ``real_scores``
    (relativistic losses); train steps then compute D's scores on a real batch for the generator update
    (without gradients: the generator's gradient flows through the fake scores only).
    """

    name = "base"
    generator_needs_real_scores: bool = False

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        """Loss minimised by the discriminator given its scores on real and (detached) fake images."""
        raise NotImplementedError

    def generator_loss(self, fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
        """Loss minimised by the generator given the discriminator's scores on its images.

        ``real_scores`` (D's scores on a real batch) is passed only when ``generator_needs_real_scores``.
        """
        raise NotImplementedError


def generator_objective(loss: Any, fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
    """``loss.generator_loss`` with the real scores when the loss asks for them (the call every train step uses)."""
    if not getattr(loss, "generator_needs_real_scores", False):
        return loss.generator_loss(fake_scores)
    if real_scores is None:
        raise ValueError(
            f"loss {getattr(loss, 'name', type(loss).__name__)!r} is relativistic: its generator loss needs D's scores "
            "on real images, which this train step does not compute; pass them through "
            "ganzoo.losses.generator_objective(loss, fake_scores, real_scores) or pick a non-relativistic loss"
        )
    return loss.generator_loss(fake_scores, real_scores)


class NonSaturatingLoss(GANLoss):
    """BCE for D; G maximises log D(G(z)) (the practical form from Goodfellow et al. 2014)."""

    name = "non-saturating"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
        return F.softplus(-fake_scores).mean()


class MinimaxLoss(NonSaturatingLoss):
    """The original minimax game: G minimises log(1 - D(G(z)))."""

    name = "minimax"

    def generator_loss(self, fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
        return -F.softplus(fake_scores).mean()


class HingeLoss(GANLoss):
    """Hinge loss (SAGAN, BigGAN): D minimises relu(1 - D(x)) + relu(1 + D(G(z)))."""

    name = "hinge"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
        return -fake_scores.mean()


class WassersteinLoss(GANLoss):
    """Wasserstein critic loss (WGAN): E[D(fake)] - E[D(real)]; pair it with a gradient penalty."""

    name = "wasserstein"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return fake_scores.mean() - real_scores.mean()

    def generator_loss(self, fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
        return -fake_scores.mean()


class LeastSquaresLoss(GANLoss):
    """Least-squares GAN (Mao et al. 2017; CycleGAN): targets 1 for real, 0 for fake."""

    name = "least-squares"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return ((real_scores - 1.0) ** 2).mean() + (fake_scores**2).mean()

    def generator_loss(self, fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
        return ((fake_scores - 1.0) ** 2).mean()


class RelativisticAverageLoss(GANLoss):
    """Relativistic average GANs (Jolicoeur-Martineau 2018, arXiv:1807.00734).

    D estimates how much more realistic a real image is than the average fake one (and vice versa):
    ``r = C(x_r) - E[C(x_f)]`` and ``f = C(x_f) - E[C(x_r)]``, the expectations over the batch (per patch
    location for score maps).  D minimises ``(g(r, real) + g(f, fake)) / 2``; G the same with the targets
    swapped, so its loss depends on the real scores too.  Subclasses define ``g`` through
    :meth:`_towards_real` and :meth:`_towards_fake`, as the reference code does for each base loss.
    """

    generator_needs_real_scores = True

    def _towards_real(self, relative: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def _towards_fake(self, relative: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    @staticmethod
    def _relative(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (real_scores - fake_scores.mean(dim=0, keepdim=True),
                fake_scores - real_scores.mean(dim=0, keepdim=True))

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        real_relative, fake_relative = self._relative(real_scores, fake_scores)
        return 0.5 * (self._towards_real(real_relative).mean() + self._towards_fake(fake_relative).mean())

    def generator_loss(self, fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
        if real_scores is None:
            return generator_objective(self, fake_scores, None)  # raises the explanatory error
        real_relative, fake_relative = self._relative(real_scores, fake_scores)
        return 0.5 * (self._towards_fake(real_relative).mean() + self._towards_real(fake_relative).mean())


class RaSGANLoss(RelativisticAverageLoss):
    """RaSGAN: the relativistic average standard (BCE) GAN."""

    name = "rasgan"

    def _towards_real(self, relative: torch.Tensor) -> torch.Tensor:
        return F.softplus(-relative)  # BCE with logits against 1

    def _towards_fake(self, relative: torch.Tensor) -> torch.Tensor:
        return F.softplus(relative)  # BCE with logits against 0


class RaLSGANLoss(RelativisticAverageLoss):
    """RaLSGAN: relativistic average least squares, targets +1 and -1."""

    name = "ralsgan"

    def _towards_real(self, relative: torch.Tensor) -> torch.Tensor:
        return (relative - 1.0) ** 2

    def _towards_fake(self, relative: torch.Tensor) -> torch.Tensor:
        return (relative + 1.0) ** 2


class RaHingeLoss(RelativisticAverageLoss):
    """RaHinge: relativistic average hinge loss."""

    name = "rahinge"

    def _towards_real(self, relative: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - relative)

    def _towards_fake(self, relative: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 + relative)


class UnavailableLoss(GANLoss):
    """Stands in for a loss whose plugin is not installed when a run is only sampled or benchmarked."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def _refuse(self) -> torch.Tensor:
        raise RuntimeError(f"loss {self.name!r} is unavailable ({self.reason}); inference needs no loss, training does")

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return self._refuse()

    def generator_loss(self, fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
        return self._refuse()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    target_norm: float = 1.0,
) -> torch.Tensor:
    """WGAN-GP penalty E[(||grad D(x_hat)||_2 - 1)^2] on random interpolates (Gulrajani et al. 2017).

    One interpolation weight per sample (not per pixel), the gradient norm over each sample's flattened
    C*H*W, and ``create_graph=True`` so the penalty itself is differentiated in the critic update.
    Computed in float32 for stability under autocast.
    """
    real = real.detach().float()
    fake = fake.detach().float()
    alpha = torch.rand(real.size(0), *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    interpolates = (alpha * real + (1.0 - alpha) * fake).requires_grad_(True)
    scores = critic(interpolates)
    (grads,) = torch.autograd.grad(outputs=scores.sum(), inputs=interpolates, create_graph=True)
    norms = grads.flatten(1).norm(2, dim=1)
    return ((norms - target_norm) ** 2).mean()


_BATCH_NORMS = (nn.modules.batchnorm._BatchNorm,)


def batchnorm_layers(networks: Iterable[tuple[str, nn.Module]]) -> list[str]:
    """Qualified names of BatchNorm layers (they break the per-sample gradient penalty)."""
    return [
        f"{net_name}.{layer_name}"
        for net_name, net in networks
        for layer_name, layer in net.named_modules()
        if isinstance(layer, _BATCH_NORMS)
    ]
