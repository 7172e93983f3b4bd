"""Public pieces of the default train step, for plugins that need one change rather than a whole new step.

:func:`default_train_step` is the core's ``ganzoo_train_step``: ``train.n_critic`` calls of
:func:`discriminator_step` (each on a fresh batch), then one :func:`generator_step`.  With ``n_critic == 1``
and ``train.reuse_fakes`` (the default) the generator step reuses the fakes of the discriminator step, as the
PyTorch DCGAN example does (one generator forward pass per iteration); ``reuse_fakes = false`` draws fresh
latents for the generator step.

Both pieces add the terms of the model's ``ganzoo_extra_loss`` hook (or of an ``extra_loss`` callable given
to them) to their loss and return their metrics as detached 0-dim tensors on the device: nothing in a step
waits for the GPU; the trainer reads metrics once per log interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch

from ganzoo.losses import generator_objective, gradient_penalty
from ganzoo.specs import ModelSpec
from ganzoo.state import BatchSource, GANState

Metrics = dict[str, torch.Tensor]
ExtraLoss = Callable[["StepContext"], Mapping[str, torch.Tensor]]


@dataclass
class StepContext:
    """The tensors of one step, handed to ``ganzoo_extra_loss`` and from a discriminator step to a generator step.

    ``real``: the real images (``None`` in a generator step without a batch); ``labels``: class labels
    (conditional models) or ``None``; ``latents``: the latent values that produced ``fake``; ``fake``: the
    generated images (attached to the generator's graph when it can be reused); ``real_scores`` /
    ``fake_scores``: the discriminator's raw scores of this step (float32); ``batch``: the whole batch.
    """

    state: GANState
    real: torch.Tensor | None = None
    labels: torch.Tensor | None = None
    latents: dict[str, torch.Tensor] = field(default_factory=dict)
    fake: torch.Tensor | None = None
    real_scores: torch.Tensor | None = None
    fake_scores: torch.Tensor | None = None
    batch: Mapping[str, torch.Tensor] | None = None


def _extra_terms(state: GANState, role: str, context: StepContext, extra_loss: ExtraLoss | None) -> Mapping[str, torch.Tensor]:
    if extra_loss is not None:
        return extra_loss(context)
    host = state.host
    if not host.implements(state.spec, "ganzoo_extra_loss"):
        return {}
    return host.call("ganzoo_extra_loss", state.spec, state=state, role=role, context=context)


def _add_terms(loss: torch.Tensor, terms: Mapping[str, torch.Tensor], prefix: str, metrics: Metrics) -> torch.Tensor:
    for name, term in terms.items():
        loss = loss + term
        metrics[f"{prefix}_{name}"] = term.detach().float()
    return loss


def fake_images(
    state: GANState, num: int, labels: torch.Tensor | None = None, latents: Mapping[str, torch.Tensor] | None = None,
    network: str = "generator", keep_graph: bool = False,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Generated images for ``num`` latents (drawn from the model's priors unless given) and the latents used.

    ``keep_graph`` keeps the generator's graph (for a generator step reusing them), else no graph is built.
    """
    values = state.draw_latents(num, given=latents)
    with torch.set_grad_enabled(keep_graph), state.autocast():
        fake = state.generate(values, labels, network=network)
    return fake, values


def discriminator_step(
    state: GANState,
    batch: Mapping[str, torch.Tensor],
    *,
    fake: torch.Tensor | None = None,
    latents: Mapping[str, torch.Tensor] | None = None,
    keep_fake_graph: bool = False,
    extra_loss: ExtraLoss | None = None,
    network: str = "discriminator",
    generator_network: str = "generator",
) -> tuple[Metrics, StepContext]:
    """One discriminator update on ``batch["image"]`` against fakes (generated here unless ``fake`` is given).

    Adds the gradient penalty when ``state.gp_weight > 0`` and the extra terms (``extra_loss`` or the model's
    ``ganzoo_extra_loss`` hook with role ``"discriminator"``).  Returns metrics (``loss_d``, ``d_real``,
    ``d_fake``, ``gradient_penalty``, ``loss_d_<term>``) and the step's :class:`StepContext`;
    ``keep_fake_graph`` keeps the fakes attached to the generator so a generator step can reuse them.
    """
    real = batch["image"]
    labels = batch.get("label") if state.spec.conditional else None
    if fake is None:
        fake, values = fake_images(state, real.size(0), labels, latents, generator_network, keep_fake_graph)
    else:
        values = dict(latents or {})
    with state.autocast():
        real_scores = state.discriminate(real, labels, network=network).float()
        fake_scores = state.discriminate(fake.detach(), labels, network=network).float()
        d_loss = state.loss.discriminator_loss(real_scores, fake_scores)
    context = StepContext(state, real, labels, values, fake, real_scores, fake_scores, batch)
    metrics: Metrics = {"loss_d": d_loss.detach(), "d_real": real_scores.detach().mean(),
                        "d_fake": fake_scores.detach().mean()}
    if state.gp_weight > 0:
        penalty = gradient_penalty(lambda x: state.discriminate(x, labels, network=network), real, fake.detach())
        d_loss = d_loss + state.gp_weight * penalty
        metrics["gradient_penalty"] = penalty.detach()
    d_loss = _add_terms(d_loss, _extra_terms(state, "discriminator", context, extra_loss), "loss_d", metrics)
    state.optimize(network, d_loss)
    return metrics, context


def generator_loss(state: GANState, fake_scores: torch.Tensor, real: torch.Tensor | None, labels: torch.Tensor | None,
                   network: str = "discriminator") -> torch.Tensor:
    """The adversarial generator loss; losses that need real scores (``loss.generator_needs_real_scores``, the
    relativistic ones) get them, scored by the current discriminator without a graph
    (:func:`ganzoo.losses.generator_objective`)."""
    real_scores = None
    if getattr(state.loss, "generator_needs_real_scores", False) and real is not None:
        with torch.no_grad(), state.autocast():
            real_scores = state.discriminate(real, labels, network=network).float()
    return generator_objective(state.loss, fake_scores, real_scores)


def generator_step(
    state: GANState,
    num: int | None = None,
    labels: torch.Tensor | None = None,
    *,
    context: StepContext | None = None,
    latents: Mapping[str, torch.Tensor] | None = None,
    real: torch.Tensor | None = None,
    extra_loss: ExtraLoss | None = None,
    network: str = "generator",
    discriminator: str = "discriminator",
) -> tuple[Metrics, StepContext]:
    """One generator update against the discriminator's scores of its fakes.

    Reuses ``context.fake`` (and its labels and latents) when it is still attached to the generator's graph
    (a discriminator step with ``keep_fake_graph=True``); else generates ``num`` fakes from ``latents`` (drawn
    when not given) and ``labels`` (uniform for conditional models when not given).  Adds the extra terms of
    role ``"generator"``.  Returns metrics (``loss_g``, ``loss_g_<term>``) and the step's context.
    """
    if context is not None and context.fake is not None and context.fake.requires_grad:
        fake, labels, values = context.fake, context.labels, context.latents
        real = context.real if real is None else real
    else:
        if num is None:
            raise ValueError("generator_step needs num (or a context whose fakes can be reused)")
        labels = labels if labels is not None else state.random_labels(num)
        fake, values = fake_images(state, num, labels, latents, network, keep_graph=True)
    with state.autocast():
        fake_scores = state.discriminate(fake, labels, network=discriminator).float()
    g_loss = generator_loss(state, fake_scores, real, labels, discriminator)
    step_context = StepContext(state, real, labels, values, fake, None, fake_scores,
                               context.batch if context is not None else None)
    metrics: Metrics = {}
    g_loss = _add_terms(g_loss, _extra_terms(state, "generator", step_context, extra_loss), "loss_g", metrics)
    metrics["loss_g"] = g_loss.detach()
    state.optimize(network, g_loss)
    return metrics, step_context


def default_train_step(model: ModelSpec, state: GANState, batches: BatchSource) -> Metrics:
    """``train.n_critic`` discriminator steps on fresh batches, then one generator step (see the module doc)."""
    n_critic = state.config.train.n_critic
    reuse = state.config.train.reuse_fakes and n_critic == 1
    metrics: Metrics = {}
    context: StepContext | None = None
    for _ in range(n_critic):
        step_metrics, context = discriminator_step(state, batches.next(), keep_fake_graph=reuse)
        metrics.update(step_metrics)
    assert context is not None and context.real is not None
    labels = context.labels
    g_metrics, _ = generator_step(state, context.real.size(0), labels, context=context if reuse else None,
                                  real=context.real)
    metrics.update(g_metrics)
    return metrics
