"""LAPGAN's train step, coarse-to-fine sampler and per-level preview.

Training (Denton et al. 2015, Algorithm in section 3): the real image's Gaussian pyramid gives every level
its real coarse image ``l_k = upsample(I_{k-1})`` and real residual ``h_k = I_k - l_k``; G_k makes a residual
from noise and the *real* ``l_k``, and D_k tells ``h_k`` from it (both added to ``l_k``).  Every level is
trained on every step, independently of the others.  Sampling chains the levels instead: each one conditions
on the previous level's sample, upsampled by the same :func:`ganzoo.nn.pyramid.upsample`.
"""

from __future__ import annotations

from typing import Any

import torch
from einops import repeat

from ganzoo.nn.pyramid import gaussian_pyramid, upsample
from ganzoo_lapgan.networks import noise_name

PREVIEW_ROWS = 8


def uniform_noise(shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None = None) -> torch.Tensor:
    """U(-1, 1) noise, as eyescream draws both the base noise and the noise planes."""
    return torch.rand(shape, device=device, generator=generator) * 2 - 1


def draw_noise(net: Any, num: int, latent_dim: int, device: torch.device,
               generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Base noise and every level's noise plane for ``num`` samples of the pyramid generator ``net``."""
    z = uniform_noise((num, latent_dim), device, generator)
    planes = {noise_name(size): uniform_noise((num, 1, size, size), device, generator) for size in net.sizes[1:]}
    return z, planes


def apply_paper_schedule(state: Any, epoch: int) -> None:
    """The paper's SGD schedule as a pure function of the epoch (so a resumed run continues exactly).

    lr is divided by ``1 + lr_decay`` every epoch; momentum starts at ``momentum`` and rises by
    ``momentum_increase`` per epoch up to ``momentum_max``.
    """
    config, train = state.model_config, state.config.train
    momentum = min(config.momentum + config.momentum_increase * epoch, config.momentum_max)
    decay = (1 + config.lr_decay) ** -epoch
    for name, optimizer in state.optimizers.items():
        base_lr = train.lr_g if name in state.generator_names else train.lr_d
        for group in optimizer.param_groups:
            group["lr"] = base_lr * decay
            if "momentum" in group:
                group["momentum"] = momentum


def train_step(state: Any, batches: Any) -> dict[str, float]:
    """One D update then one G update of every level at once (their losses summed; levels share nothing)."""
    batch = batches.next()
    real = batch["image"]
    labels = batch.get("label") if state.spec.conditional else None
    apply_paper_schedule(state, int(getattr(batches, "epoch", 0)))
    generator, discriminator = state.unwrapped("generator"), state.unwrapped("discriminator")
    num, levels = real.size(0), len(generator.sizes)
    scales = gaussian_pyramid(real, levels)
    coarse = [None] + [upsample(image) for image in scales[:-1]]  # l_k, from the real image, per level
    real_parts = [scales[0]] + [scales[k] - coarse[k] for k in range(1, levels)]
    z, planes = draw_noise(generator, num, state.model_config.latent_dim, real.device)

    with state.autocast():
        fake_parts = [generator.base(z, labels)]
        for k, (size, level) in enumerate(zip(generator.sizes[1:], generator.levels), start=1):
            fake_parts.append(level(planes[noise_name(size)], coarse[k], labels))

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
            state.loss.generator_loss(discriminator.score_level(k, fake_parts[k], coarse[k], labels).float())
            for k in range(levels)
        ]
    state.optimize("generator", torch.stack(g_losses).sum())

    metrics = {"loss_d": float(sum(d_losses).detach()), "loss_g": float(sum(g_losses).detach())}
    for size, d_loss, g_loss in zip(generator.sizes, d_losses, g_losses):
        metrics[f"loss_d_{size}px"] = float(d_loss.detach())
        metrics[f"loss_g_{size}px"] = float(g_loss.detach())
    return metrics


def sample_levels(state: Any, num: int, labels: torch.Tensor | None = None,
                  generator: torch.Generator | None = None) -> list[torch.Tensor]:
    """Coarse-to-fine samples at every scale (coarsest first) from the sampling network, in eval mode."""
    net = state.sampling_network("generator")
    was_training = net.training
    net.eval()
    try:
        if state.spec.conditional and labels is None:
            labels = state.random_labels(num, generator)
        z, planes = draw_noise(net, num, state.model_config.latent_dim, state.device, generator)
        with torch.no_grad():
            return net.sample_levels(z, None if labels is None else labels.to(state.device), **planes)
    finally:
        net.train(was_training)


def preview_columns(state: Any, seed: int) -> list[torch.Tensor]:
    """One column per level (each scale's sample blown up to full size, pixels kept square), coarsest first."""
    size = state.model_config.image_size
    generator = torch.Generator(device=state.device).manual_seed(seed)
    labels = None
    if state.spec.conditional:
        labels = torch.arange(PREVIEW_ROWS, device=state.device) % state.model_config.num_classes
    levels = sample_levels(state, PREVIEW_ROWS, labels, generator)
    return [repeat(image, "n c h w -> n c (h s) (w t)", s=size // image.shape[-1], t=size // image.shape[-1])
            for image in levels]
