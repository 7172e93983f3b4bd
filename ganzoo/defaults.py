"""The core's default implementations of the per-model hooks.

:meth:`ganzoo.plugins.PluginHost.call` falls back to these when the plugin that owns a model does not
implement a hook (or returns ``None``).  Their signatures mirror :mod:`ganzoo.hookspecs`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
from torch import nn

from ganzoo.config import RunConfig
from ganzoo.losses import GANLoss, gradient_penalty
from ganzoo.specs import ModelSpec
from ganzoo.state import BatchSource, GANState, default_optimizers


def configure_optimizers(
    model: ModelSpec, config: RunConfig, networks: Mapping[str, nn.Module], generator_names: list[str]
) -> dict[str, torch.optim.Optimizer]:
    """Adam per trainable network (see :func:`ganzoo.state.default_optimizers`)."""
    return default_optimizers(config, networks, generator_names)


def loss(model: ModelSpec, config: RunConfig) -> GANLoss:
    """The loss registered under ``config.train.loss``."""
    from ganzoo.plugins import get_host

    return get_host().get_loss(config.train.loss).factory()


def train_step(model: ModelSpec, state: GANState, batches: BatchSource) -> dict[str, float]:
    """Alternating updates: ``n_critic`` discriminator steps on fresh batches, then one generator step."""
    metrics: dict[str, float] = {}
    labels = None
    for _ in range(state.config.train.n_critic):
        batch = batches.next()
        real = batch["image"]
        labels = batch.get("label") if model.conditional else None
        metrics.update(_discriminator_step(state, real, labels))
    metrics.update(_generator_step(state, real.size(0), labels))
    return metrics


def _discriminator_step(state: GANState, real: torch.Tensor, labels: torch.Tensor | None) -> dict[str, float]:
    with torch.no_grad(), state.autocast():
        fake = state.generate(state.noise(real.size(0)), labels)
    with state.autocast():
        real_scores = state.discriminate(real, labels)
        fake_scores = state.discriminate(fake, labels)
        d_loss = state.loss.discriminator_loss(real_scores.float(), fake_scores.float())
    metrics = {"loss_d": float(d_loss.detach()), "d_real": float(real_scores.detach().float().mean()),
               "d_fake": float(fake_scores.detach().float().mean())}
    if state.gp_weight > 0:
        penalty = gradient_penalty(lambda x: state.discriminate(x, labels), real, fake)
        d_loss = d_loss + state.gp_weight * penalty
        metrics["gradient_penalty"] = float(penalty.detach())
    state.optimize("discriminator", d_loss)
    return metrics


def _generator_step(state: GANState, num: int, labels: torch.Tensor | None) -> dict[str, float]:
    if labels is None:
        labels = state.random_labels(num)
    with state.autocast():
        fake = state.generate(state.noise(num), labels)
        g_loss = state.loss.generator_loss(state.discriminate(fake, labels).float())
    state.optimize("generator", g_loss)
    return {"loss_g": float(g_loss.detach())}


def truncated_noise(num: int, dim: int, threshold: float, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    """Normal noise with every entry beyond ``threshold`` resampled (BigGAN's truncation trick).

    Drawn on the generator's device (a seeded CPU generator: the same noise everywhere), then moved to ``device``.
    """
    draw_on = generator.device if generator is not None else device
    z = torch.randn(num, dim, device=draw_on, generator=generator)
    outside = z.abs() > threshold
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), device=draw_on, generator=generator)
        outside = z.abs() > threshold
    return z.to(device)


@torch.no_grad()
def sample(
    model: ModelSpec,
    state: GANState,
    num: int,
    labels: torch.Tensor | None = None,
    inputs: torch.Tensor | None = None,
    truncation: float | None = None,
    generator: torch.Generator | None = None,
    direction: str | None = None,
) -> torch.Tensor:
    """``G(z)`` or ``G(z, y)`` with the sampling network (EMA weights when kept) in eval mode."""
    if model.image_to_image:
        raise NotImplementedError(f"model {model.name!r} translates images; its plugin must implement ganzoo_sample")
    net = state.sampling_network("generator")
    was_training = net.training
    net.eval()
    try:
        if truncation is not None and truncation > 0:
            z = truncated_noise(num, state.model_config.latent_dim, truncation, state.device, generator)
        else:
            z = state.noise(num, generator)
        if model.conditional:
            if labels is None:
                labels = state.random_labels(num, generator)
            images = net(z, labels.to(state.device))
        else:
            images = net(z)
    finally:
        net.train(was_training)
    return images.float().clamp(-1, 1)


@torch.no_grad()
def preview(model: ModelSpec, state: GANState, batch: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
    """Paired image-to-image default: input | output | target."""
    from ganzoo.plugins import get_host

    if "input" not in batch:
        raise NotImplementedError(f"model {model.name!r} must implement ganzoo_preview for batches with {sorted(batch)}")
    inputs = batch["input"].to(state.device)
    outputs = get_host().call("ganzoo_sample", model, state=state, num=inputs.size(0), inputs=inputs)
    return [inputs.float(), outputs.float(), batch["image"].to(state.device).float()]


def extra_state(model: ModelSpec, state: GANState) -> dict[str, Any]:
    """No extra state by default."""
    return {}


DEFAULTS: dict[str, Callable[..., Any]] = {
    "ganzoo_configure_optimizers": configure_optimizers,
    "ganzoo_loss": loss,
    "ganzoo_train_step": train_step,
    "ganzoo_sample": sample,
    "ganzoo_extra_state": extra_state,
    "ganzoo_preview": preview,
}
