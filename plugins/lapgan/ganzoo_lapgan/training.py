"""LAPGAN's train step, coarse-to-fine sampler and per-level preview.

Training (Denton et al. 2015, Algorithm in section 3): the real image's Gaussian pyramid gives every level
its real coarse image ``l_k = upsample(I_{k-1})`` and real residual ``h_k = I_k - l_k``; G_k makes a residual
from noise and the *real* ``l_k``, and D_k tells ``h_k`` from it (both added to ``l_k``).  Every level is
trained on every step, independently of the others.  Sampling chains the levels instead: each one conditions
on the previous level's sample, upsampled by the same :func:`ganzoo.nn.pyramid.upsample`.
"""

from __future__ import annotations

from typing import Any, Mapping

import torch
from einops import repeat

from ganzoo.losses import generator_objective
from ganzoo.nn.pyramid import gaussian_pyramid, upsample

PREVIEW_ROWS = 8


def rising_momentum(state: Any, epoch: int) -> None:
    """The paper's momentum, rising with the epoch: ``momentum + momentum_increase * epoch`` up to ``momentum_max``.

    The base momentum is each optimizer's own setting (``train.momentum`` or ``[train.optim.NAME]``); the lr and
    its decay are the core's settings and schedule.  A pure function of the epoch, so a resumed run continues
    exactly.
    """
    config = state.model_config
    for name, optimizer in state.optimizers.items():
        base = state.schedules.settings[name]["momentum"]
        momentum = min(base + config.momentum_increase * epoch, max(base, config.momentum_max))
        for group in optimizer.param_groups:
            if "momentum" in group:
                group["momentum"] = momentum


def train_step(state: Any, batches: Any) -> dict[str, torch.Tensor]:
    """One D update then one G update of every level at once (their losses summed; levels share nothing)."""
    batch = batches.next()
    real = batch["image"]
    labels = batch.get("label") if state.spec.conditional else None
    rising_momentum(state, int(getattr(batches, "epoch", 0)))
    generator, discriminator = state.unwrapped("generator"), state.unwrapped("discriminator")
    num, levels = real.size(0), len(generator.sizes)
    scales = gaussian_pyramid(real, levels)
    coarse = [None] + [upsample(image) for image in scales[:-1]]  # l_k, from the real image, per level
    real_parts = [scales[0]] + [scales[k] - coarse[k] for k in range(1, levels)]
    latents = state.draw_latents(num)

    with state.autocast():
        fake_parts = [generator.base(latents["z"], labels)]
        for k, level in enumerate(generator.levels, start=1):
            fake_parts.append(level(generator.noise_plane(k, latents), coarse[k], labels))

        d_losses = [
            state.loss.discriminator_loss(
                discriminator.score_level(k, real_parts[k], coarse[k], labels).float(),
                discriminator.score_level(k, fake_parts[k].detach(), coarse[k], labels).float(),
            )
            for k in range(levels)
        ]
    state.optimize("discriminator", torch.stack(d_losses).sum())

    with state.autocast():
        g_losses = [
            generator_objective(state.loss, discriminator.score_level(k, fake_parts[k], coarse[k], labels).float(),
                                _real_scores(state, discriminator, k, real_parts[k], coarse[k], labels))
            for k in range(levels)
        ]
    state.optimize("generator", torch.stack(g_losses).sum())

    metrics = {"loss_d": torch.stack(d_losses).sum().detach(), "loss_g": torch.stack(g_losses).sum().detach()}
    for size, d_loss, g_loss in zip(generator.sizes, d_losses, g_losses):
        metrics[f"loss_d_{size}px"] = d_loss.detach()
        metrics[f"loss_g_{size}px"] = g_loss.detach()
    return metrics


def _real_scores(state: Any, discriminator: Any, level: int, real: torch.Tensor, coarse: torch.Tensor | None,
                 labels: torch.Tensor | None) -> torch.Tensor | None:
    """The updated D_k's scores of the real band, for losses whose G objective needs them (relativistic ones)."""
    if not getattr(state.loss, "generator_needs_real_scores", False):
        return None
    with torch.no_grad():
        return discriminator.score_level(level, real, coarse, labels).float()


def sample_levels(state: Any, num: int, labels: torch.Tensor | None = None, generator: torch.Generator | None = None,
                  latents: Mapping[str, torch.Tensor] | None = None) -> list[torch.Tensor]:
    """Coarse-to-fine samples at every scale (coarsest first) from the sampling network, in eval mode.

    ``latents`` may fix ``z`` and any level's noise plane; the others are drawn from ``generator``.
    """
    net = state.sampling_network("generator")
    was_training = net.training
    net.eval()
    try:
        values = state.draw_latents(num, generator, given=latents)
        if state.spec.conditional and labels is None:
            labels = state.random_labels(num, generator)
        with torch.no_grad():
            return net.sample_levels(labels=None if labels is None else labels.to(state.device), **values)
    finally:
        net.train(was_training)


def preview_columns(state: Any, seed: int) -> list[torch.Tensor]:
    """One column per level (each scale's sample blown up to full size, pixels kept square), coarsest first."""
    size = state.model_config.image_size
    generator = torch.Generator().manual_seed(seed)
    labels = None
    if state.spec.conditional:
        labels = torch.arange(PREVIEW_ROWS, device=state.device) % state.model_config.num_classes
    levels = sample_levels(state, PREVIEW_ROWS, labels, generator)
    return [repeat(image, "n c h w -> n c (h s) (w t)", s=size // image.shape[-1], t=size // image.shape[-1])
            for image in levels]
