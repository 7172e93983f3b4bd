"""The core's default implementations of the per-model hooks.

:meth:`ganzoo.plugins.PluginHost.call` falls back to these when the plugin that owns a model does not
implement a hook (or returns ``None``).  Their signatures mirror :mod:`ganzoo.hookspecs`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
from torch import nn

from einops import rearrange

from ganzoo.config import ModelConfig, RunConfig
from ganzoo.latents import Latent, Normal, draw_latent
from ganzoo.losses import GANLoss
from ganzoo.specs import ModelSpec
from ganzoo.state import GANState, call_generator, default_optimizers
from ganzoo.steps import default_train_step


def configure_optimizers(
    model: ModelSpec, config: RunConfig, networks: Mapping[str, nn.Module], generator_names: list[str],
    roles: Mapping[str, str] | None = None,
) -> dict[str, torch.optim.Optimizer]:
    """One optimizer per trainable network from the ``train`` settings (see :mod:`ganzoo.optim`)."""
    return default_optimizers(config, networks, generator_names, roles)


def loss(model: ModelSpec, config: RunConfig) -> GANLoss:
    """The loss registered under ``config.train.loss``, built from the run's settings."""
    from ganzoo.plugins import get_host

    return get_host().get_loss(config.train.loss).build(config)


def latents(model: ModelSpec, config: ModelConfig) -> dict[str, Latent]:
    """``{"z": Normal(latent_dim)}`` for noise-to-image models, nothing for image-to-image ones."""
    return {} if model.image_to_image else {"z": Normal(config.latent_dim)}


def extra_loss(model: ModelSpec, state: GANState, role: str, context: Any) -> dict[str, torch.Tensor]:
    """No extra loss terms."""
    return {}


def truncated_noise(num: int, dim: int, threshold: float, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
    """Normal noise with every entry beyond ``threshold`` resampled (BigGAN's truncation trick)."""
    return draw_latent(Normal(dim), num, generator, device, threshold)


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
    latents: Mapping[str, torch.Tensor] | None = None,
) -> torch.Tensor:
    """``G(latents)`` / ``G(latents, y)`` with the sampling network (EMA weights when kept) in eval mode."""
    if model.image_to_image:
        raise NotImplementedError(f"model {model.name!r} translates images; its plugin must implement ganzoo_sample")
    net = state.sampling_network("generator")
    was_training = net.training
    net.eval()
    try:
        generator = _cpu(generator)
        values = state.draw_latents(num, generator, given=latents, truncation=truncation)
        if model.conditional and labels is None:
            labels = state.random_labels(num, generator)
        images = call_generator(net, values, labels.to(state.device) if model.conditional else None)
    finally:
        net.train(was_training)
    return images.float().clamp(-1, 1)


def _cpu(generator: torch.Generator | None) -> torch.Generator | None:
    """Seeded draws happen on the CPU; a device generator (API-1 callers) seeds a CPU one from its own stream."""
    if generator is None or generator.device.type == "cpu":
        return generator
    seed = int(torch.randint(0, 2**62, (), generator=generator, device=generator.device))
    return torch.Generator().manual_seed(seed)


def preview(model: ModelSpec, state: GANState, batch: Mapping[str, torch.Tensor] | None) -> list[torch.Tensor] | torch.Tensor:
    """Paired data: input | output | target; noise-to-image: fixed seeded samples, one row per class if conditional."""
    if model.image_to_image:
        return _translation_preview(model, state, batch)
    host = state.host
    count = state.config.train.sample_count
    generator = torch.Generator().manual_seed(state.config.train.seed)
    if not model.conditional:
        return host.call("ganzoo_sample", model, state=state, num=count, generator=generator)
    classes = max(1, int(state.model_config.num_classes))
    shown = min(classes, 16)
    per_class = max(1, count // shown)
    labels = torch.arange(shown, device=state.device).repeat_interleave(per_class)
    images = host.call("ganzoo_sample", model, state=state, num=len(labels), labels=labels, generator=generator)
    return list(rearrange(images, "(k c) ch h w -> c k ch h w", k=shown))


def _translation_preview(model: ModelSpec, state: GANState, batch: Mapping[str, torch.Tensor] | None) -> list[torch.Tensor]:
    if not batch or "input" not in batch:
        keys = sorted(batch) if batch else "no batch"
        raise NotImplementedError(f"model {model.name!r} must implement ganzoo_preview for batches with {keys}")
    inputs = batch["input"].to(state.device)
    outputs = state.host.call("ganzoo_sample", model, state=state, num=inputs.size(0), inputs=inputs,
                              generator=torch.Generator().manual_seed(state.config.train.seed))
    return [inputs.float(), outputs.float(), batch["image"].to(state.device).float()]


def extra_state(model: ModelSpec, state: GANState) -> dict[str, Any]:
    """No extra state by default."""
    return {}


train_step = default_train_step
"""The default ``ganzoo_train_step`` (kept under its API-1 name; see :mod:`ganzoo.steps`)."""


DEFAULTS: dict[str, Callable[..., Any]] = {
    "ganzoo_configure_optimizers": configure_optimizers,
    "ganzoo_loss": loss,
    "ganzoo_train_step": default_train_step,
    "ganzoo_latents": latents,
    "ganzoo_extra_loss": extra_loss,
    "ganzoo_sample": sample,
    "ganzoo_extra_state": extra_state,
    "ganzoo_preview": preview,
}
