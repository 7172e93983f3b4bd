"""The plugin contract: every hook a ganzoo plugin may implement.

A plugin is a module (or object) exposed through the ``ganzoo`` entry-point group.  It implements
``ganzoo_register_models`` to announce its models and, for each hook below that it wants to override,
a function decorated with :data:`ganzoo.hookimpl`.  Every other hook falls back to the core default.

Dispatch is by lookup, not broadcast: when the core needs the generator of model ``dcgan`` it calls the
``ganzoo_build_generator`` implementation *of the plugin that registered dcgan* (or the core default when
that plugin has none).  A plugin that registers several models receives the :class:`~ganzoo.specs.ModelSpec`
as ``model`` and branches on ``model.name``.  As with pluggy in general, an implementation may accept
fewer arguments than the specification lists; it may never accept unknown ones (such a plugin is reported
as broken).

Hooks are only ever added in later API versions, never given new required arguments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

import pluggy

if TYPE_CHECKING:  # the contract is documented with these types but importing them must stay cheap
    import torch
    from torch import nn

    from ganzoo.config import ModelConfig, RunConfig
    from ganzoo.losses import GANLoss
    from ganzoo.specs import LossSpec, ModelSpec
    from ganzoo.state import BatchSource, GANState

PROJECT_NAME = "ganzoo"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    """Announce the models this plugin provides.

    Call ``register(ModelSpec(...))`` once per model.  Called once, when the plugin is loaded; keep it
    cheap (no torch import, no network building).  A duplicate model name, or an exception raised here,
    marks the plugin as broken without affecting any other plugin.
    """


@hookspec
def ganzoo_register_losses(register: Callable[[LossSpec], None]) -> None:
    """Announce adversarial losses this plugin provides, usable by every model via ``--loss NAME``.

    Call ``register(LossSpec(...))`` once per loss.  The core already provides ``non-saturating``,
    ``minimax``, ``hinge``, ``wasserstein`` and ``least-squares``.
    """


@hookspec(firstresult=True)
def ganzoo_build_generator(model: ModelSpec, config: ModelConfig) -> nn.Module | Mapping[str, nn.Module]:
    """Build the generator network(s) of ``model`` from its validated ``config``.

    Return one ``nn.Module`` (stored under the name ``"generator"``) or a mapping of names to modules for
    models with several generators (cyclegan's ``g_ab``/``g_ba``, lapgan's pyramid levels, ppgn's fixed
    encoder).  Networks whose parameters all have ``requires_grad=False`` get no optimizer.
    Conventions: unconditional generators are called as ``G(z)``, class-conditional ones as ``G(z, y)``,
    and all generators produce images in ``[-1, 1]`` with shape ``(N, config.channels, S, S)``.
    Required: the core has no default generator.
    """


@hookspec(firstresult=True)
def ganzoo_build_discriminator(model: ModelSpec, config: ModelConfig) -> nn.Module | Mapping[str, nn.Module]:
    """Build the discriminator / critic network(s) of ``model``.

    Return one ``nn.Module`` (named ``"discriminator"``) or a mapping of names to modules (cyclegan's
    ``d_a``/``d_b``, infogan's Q head).  Discriminators return raw scores (logits), one per sample or a
    patch map; conditional ones are called as ``D(x, y)``.  Required: the core has no default.
    """


@hookspec(firstresult=True)
def ganzoo_configure_optimizers(
    model: ModelSpec, config: RunConfig, networks: Mapping[str, nn.Module], generator_names: list[str]
) -> Mapping[str, torch.optim.Optimizer]:
    """Create one optimizer per trainable network, keyed by network name.

    ``generator_names`` lists the networks that came from ``ganzoo_build_generator``.
    Default: Adam for every network with trainable parameters, ``train.lr_g`` for networks built by
    ``ganzoo_build_generator`` and ``train.lr_d`` for the rest, betas ``(train.beta1, train.beta2)``.
    Override for other optimizers or parameter groups (infogan's Q head shares the D optimizer).
    """


@hookspec(firstresult=True)
def ganzoo_loss(model: ModelSpec, config: RunConfig) -> GANLoss:
    """Return the adversarial loss object for a run.

    Default: the loss registered under ``config.train.loss`` (so ``--loss hinge`` works for every model
    that keeps the default).  Override only when the model's loss cannot be expressed by a named loss.
    """


@hookspec(firstresult=True)
def ganzoo_train_step(model: ModelSpec, state: GANState, batches: BatchSource) -> Mapping[str, float]:
    """Run one training iteration and return scalar metrics (names to floats) for logging.

    ``batches.next()`` returns the next batch (a dict of tensors already on ``state.device``: ``image`` and
    ``label`` for noise-to-image models, ``input``/``image`` for paired and ``a``/``b`` for unpaired
    image-to-image data).  Use ``state.autocast()`` around forward passes and ``state.optimize(name, loss)``
    to step an optimizer, so that mixed precision, gradient scaling and distributed training keep working.
    Default: alternating updates, ``train.n_critic`` discriminator steps (each on a fresh batch, with the
    gradient penalty when its weight is positive) then one generator step.
    """


@hookspec(firstresult=True)
def ganzoo_sample(
    model: ModelSpec,
    state: GANState,
    num: int,
    labels: torch.Tensor | None,
    inputs: torch.Tensor | None,
    truncation: float | None,
    generator: torch.Generator | None,
    direction: str,
) -> torch.Tensor:
    """Produce ``num`` images in ``[-1, 1]`` from the trained networks, in eval mode.

    ``labels`` holds class labels for conditional models (``None``: drawn uniformly), ``inputs`` the source
    images for image-to-image models, ``truncation`` a threshold for the truncation trick and
    ``generator`` the random generator to draw noise from, ``direction`` ``"AtoB"`` or ``"BtoA"`` for
    unpaired translation models.  Arguments the caller does not pass arrive as ``None``.  Default: ``G(z)`` or ``G(z, y)`` with the
    sampling generator (EMA weights when kept).  Override for iterative samplers (ppgn), pyramids
    (lapgan) or translation (pix2pix, cyclegan).
    """


@hookspec(firstresult=True)
def ganzoo_preview(model: ModelSpec, state: GANState, batch: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
    """Columns of images for the progress grid of an image-to-image model, shown side by side.

    ``batch`` is a fixed held-out batch.  Each returned tensor has the same shape ``(N, C, H, W)`` in
    ``[-1, 1]``; row ``i`` of the grid shows element ``i`` of every column.  Default for paired data:
    input | output | target; cyclegan overrides it with A | G(A) | F(G(A)).  Noise-to-image models are
    previewed with ``ganzoo_sample`` from fixed noise instead.
    """


@hookspec
def ganzoo_extra_state(model: ModelSpec, state: GANState) -> Mapping[str, Any] | None:
    """Return initial non-network training state to keep in ``state.extras`` and in checkpoints.

    Values must be tensors, numbers, strings or lists/dicts of them (checkpoints never pickle objects);
    cyclegan keeps its image pools here.  Default: nothing.
    """


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name, value in list(globals().items()) if name.startswith("ganzoo_") and callable(value)
)
