"""InfoGAN's training pieces on top of the core step: the information term, the logged estimate, the preview."""

from __future__ import annotations

from typing import Any, Mapping

import torch
from einops import rearrange

from ganzoo.specs import ModelSpec
from ganzoo.steps import StepContext, default_train_step
from ganzoo_infogan.information import CATEGORICAL, entropy_of_code, information_terms
from ganzoo_infogan.networks import InfoDiscriminator, continuous_names


def q_network(state: Any) -> InfoDiscriminator:
    """The discriminator that carries the Q head."""
    return state.unwrapped("discriminator")


def information_loss(state: Any, role: str, context: StepContext) -> dict[str, torch.Tensor]:
    """lambda_cat * CE + lambda_cont * NLL of Q on the step's fakes.

    In D's step the fakes are detached (L_I trains the Q head and the shared trunk); in G's step the gradient
    flows through the fakes into G.  Q reuses D's trunk pass on the same fakes (see
    :meth:`~ganzoo_infogan.networks.InfoDiscriminator.code_predictions`).
    """
    if context.fake is None or CATEGORICAL not in context.latents:
        return {}
    config = state.model_config
    fake = context.fake.detach() if role == "discriminator" else context.fake
    with state.autocast():
        prediction = q_network(state).code_predictions(fake)
    return information_terms(prediction, context.latents, config.lambda_cat, config.lambda_cont)


def train_step(model: ModelSpec, state: Any, batches: Any) -> dict[str, torch.Tensor]:
    """The core's default step (its pieces add the information term) and ``mi_estimate`` from G's update."""
    metrics = default_train_step(model, state, batches)
    q_network(state).forget()
    config = state.model_config
    if config.lambda_cat > 0 and "loss_g_info_cat" in metrics:
        metrics["mi_estimate"] = entropy_of_code(config.categories) - metrics["loss_g_info_cat"] / config.lambda_cat
    return metrics


def traversal_latents(state: Any, sweep: str | None, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Latents for one traversal column block: rows = categorical values, columns = ``sweep``'s values.

    One noise vector for the whole grid, the other continuous codes at 0; ``sweep = None`` gives one column.
    """
    config, settings = state.model_config, state.config.sample
    rows = config.categories
    steps = settings.traverse_steps if sweep is not None else 1
    values = torch.linspace(settings.traverse_low, settings.traverse_high, steps)
    num = rows * steps
    noise = state.draw_latents(1, generator)["z"].cpu()
    latents = {"z": noise.expand(num, -1).clone(), CATEGORICAL: torch.arange(rows).repeat_interleave(steps)}
    for name in continuous_names(config.continuous_codes):
        swept = values.repeat(rows) if name == sweep else torch.zeros(num)
        latents[name] = swept[:, None]
    return latents


def traversal_columns(model: ModelSpec, state: Any) -> list[torch.Tensor]:
    """The progress grid: row k has ``code = k``; the columns sweep c1 (low to high), then c2, ... (fixed z)."""
    config = state.model_config
    sweeps: list[str | None] = list(continuous_names(config.continuous_codes)) or [None]
    columns: list[torch.Tensor] = []
    for sweep in sweeps:
        generator = torch.Generator().manual_seed(state.config.train.seed)
        latents = traversal_latents(state, sweep, generator)
        images = state.host.call("ganzoo_sample", model, state=state, num=len(latents[CATEGORICAL]),
                                 latents=latents, generator=generator)
        columns.extend(rearrange(images, "(rows steps) c h w -> steps rows c h w", rows=config.categories))
    return columns


def generate_with_codes(model: ModelSpec, state: Any, num: int, generator: torch.Generator,
                        given: Mapping[str, torch.Tensor] | None = None) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``num`` samples and the latents behind them (drawn from ``generator``, ``given`` ones kept)."""
    latents = state.draw_latents(num, generator, given=given)
    images = state.host.call("ganzoo_sample", model, state=state, num=num, latents=latents, generator=generator)
    return images, latents
