"""Adversarial losses and the gradient penalty, shared by every model.

A loss object turns discriminator outputs (raw scores: one per sample or a patch map) into the two
players' objectives.  Losses are looked up by name (``--loss hinge``), so any model that keeps the default
``ganzoo_loss`` hook can be trained with any of them.
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn


class GANLoss:
    """Base class: subclasses define both players' objectives from discriminator scores."""

    name = "base"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        """Loss minimised by the discriminator given its scores on real and (detached) fake images."""
        raise NotImplementedError

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        """Loss minimised by the generator given the discriminator's scores on its images."""
        raise NotImplementedError


class NonSaturatingLoss(GANLoss):
    """BCE for D; G maximises log D(G(z)) (the practical form from Goodfellow et al. 2014)."""

    name = "non-saturating"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.softplus(-fake_scores).mean()


class MinimaxLoss(NonSaturatingLoss):
    """The original minimax game: G minimises log(1 - D(G(z)))."""

    name = "minimax"

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -F.softplus(fake_scores).mean()


class HingeLoss(GANLoss):
    """Hinge loss (SAGAN, BigGAN): D minimises relu(1 - D(x)) + relu(1 + D(G(z)))."""

    name = "hinge"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean()


class WassersteinLoss(GANLoss):
    """Wasserstein critic loss (WGAN): E[D(fake)] - E[D(real)]; pair it with a gradient penalty."""

    name = "wasserstein"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return fake_scores.mean() - real_scores.mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return -fake_scores.mean()


class LeastSquaresLoss(GANLoss):
    """Least-squares GAN (Mao et al. 2017; CycleGAN): targets 1 for real, 0 for fake."""

    name = "least-squares"

    def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
        return ((real_scores - 1.0) ** 2).mean() + (fake_scores**2).mean()

    def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:
        return ((fake_scores - 1.0) ** 2).mean()


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
