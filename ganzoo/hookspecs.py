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

API 2 (plugins declaring ``GANZOO_API`` that includes 2) is strict: an implemented per-model hook that returns
``None`` is an error naming the plugin and hook, and a value the caller chose (any argument but the context
ones: ``model``, ``state``, ``config``, ``networks``, ``generator_names``, ``roles``, ``batches``, ``batch``,
``role``, ``context``) that the implementation does not accept is an error naming it.  API-1 plugins keep the
API-1 behaviour (``None`` falls back to the default; only ``truncation`` and ``latents`` must be accepted when
given).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping

import pluggy

if TYPE_CHECKING:  # the contract is documented with these types but importing them must stay cheap
    import torch
    from torch import nn

    from ganzoo.config import ModelConfig, RunConfig
    from ganzoo.latents import Latent
    from ganzoo.losses import GANLoss
    from ganzoo.metrics.protocol import Protocol
    from ganzoo.specs import AugmentationSpec, CommandSpec, DatasetSpec, LossSpec, ModelSpec
    from ganzoo.state import BatchSource, GANState
    from ganzoo.steps import StepContext

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
    ``d_a``/``d_b``; infogan's Q head is a head of its one discriminator).  Discriminators return raw scores (logits), one per sample or a
    patch map; conditional ones are called as ``D(x, y)``.  Required: the core has no default.
    """


@hookspec(firstresult=True)
def ganzoo_configure_optimizers(
    model: ModelSpec,
    config: RunConfig,
    networks: Mapping[str, nn.Module],
    generator_names: list[str],
    roles: Mapping[str, str],
) -> Mapping[str, torch.optim.Optimizer]:
    """Create one optimizer per trainable network, keyed by network name.

    ``generator_names`` lists the generator-role networks, ``roles`` maps every network to its role (API 2).
    Default: per network with trainable parameters and a trainable role (not ``frozen``), the optimizer the
    ``train`` settings describe (``train.optimizer``, ``lr_g`` for generators and ``lr_d`` for the others, betas,
    momentum, weight decay, overridable per network or role under ``[train.optim.NAME]``; see
    :mod:`ganzoo.optim`).  Override only for parameter groups the settings cannot express.  Optimizers may be
    keyed by other names than networks; their schedule settings are then looked up under that name.
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
    Metric values may be Python floats or 0-dim tensors (prefer detached tensors: no host sync per step).
    Default (:func:`ganzoo.steps.default_train_step`): alternating updates, ``train.n_critic`` discriminator
    steps (each on a fresh batch, with the gradient penalty when its weight is positive) then one generator step
    that reuses the last discriminator step's fakes when ``n_critic == 1`` and ``train.reuse_fakes``.  Build your
    own from the pieces in :mod:`ganzoo.steps`, and declare the step settings it honours in
    ``ModelSpec.train_settings``.
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
    latents: Mapping[str, torch.Tensor] | None,
) -> torch.Tensor:
    """Produce ``num`` images in ``[-1, 1]`` from the trained networks, in eval mode.

    ``latents`` (API 2) holds latent values the caller chose (some or all of the declared latents, each with
    ``num`` rows); draw the others with ``state.draw_latents(num, generator, given=latents, truncation=...)``.
    ``generator`` is a CPU ``torch.Generator`` (latents drawn with it are the same on every device).  The
    sampler decides its grad mode (the default runs under ``torch.no_grad``; an iterative sampler may use
    ``torch.enable_grad()``) and must leave every network in the mode it found it in.  Settings declared by
    ``ModelSpec.sample_config`` are in ``state.config.sample``.

    ``labels`` holds class labels for conditional models (``None``: drawn uniformly), ``inputs`` the source
    images for image-to-image models, ``truncation`` a threshold for the truncation trick and
    ``generator`` the random generator to draw noise from, ``direction`` ``"AtoB"`` or ``"BtoA"`` for
    unpaired translation models.  Arguments the caller does not pass arrive as ``None``.  Default: ``G(z)`` or ``G(z, y)`` with the
    sampling generator (EMA weights when kept).  Override for iterative samplers (ppgn), pyramids
    (lapgan) or translation (pix2pix, cyclegan).
    """


@hookspec(firstresult=True)
def ganzoo_preview(
    model: ModelSpec, state: GANState, batch: Mapping[str, torch.Tensor]
) -> list[torch.Tensor] | torch.Tensor:
    """The progress grid of every model: a list of columns shown side by side, or one tensor of images.

    ``batch`` is a fixed held-out batch for image-to-image models and an empty mapping for noise-to-image ones.  Columns
    all have the same shape ``(N, C, H, W)`` in ``[-1, 1]``; row ``i`` of the grid shows element ``i`` of every
    column.  A single tensor is laid out in a square grid.  Draw randomness from a CPU generator seeded with
    ``state.config.train.seed`` so every grid of a run shows the same noise.  Defaults: paired data input |
    output | target; noise-to-image models ``ganzoo_sample`` from fixed seeded latents, one row per class for
    conditional ones.  Called under a forked RNG (the training RNG is not advanced); like a sampler, it decides
    its grad mode and restores network modes.
    """


@hookspec(firstresult=True)
def ganzoo_latents(model: ModelSpec, config: ModelConfig) -> Mapping[str, Latent]:
    """Declare the model's named latent inputs and their priors (API 2).

    Return ``{name: ganzoo.latents.Normal(dim) | Uniform(dim, low, high) | Categorical(k)}``; names are Python
    identifiers.  The default step, the default sampler and ``ganzoo sample --latent/--traverse/--interpolate``
    draw from them; generators with several latents are called with them as keyword arguments.  Keep it cheap
    (no torch import needed).  Default: ``{"z": Normal(config.latent_dim)}`` for noise-to-image models, nothing
    for image-to-image ones.
    """


@hookspec(firstresult=True)
def ganzoo_extra_loss(model: ModelSpec, state: GANState, role: str, context: StepContext) -> Mapping[str, torch.Tensor]:
    """Extra loss terms for the default step pieces (regularisers, auxiliary losses), by name (API 2).

    Called by :func:`ganzoo.steps.discriminator_step` (``role == "discriminator"``) and
    :func:`ganzoo.steps.generator_step` (``role == "generator"``) after the adversarial loss is computed;
    ``context`` holds the step's tensors (real images, labels, latents, fakes, scores).  Each returned scalar
    tensor is added to that step's loss and logged as ``loss_d_<name>`` / ``loss_g_<name>``.  Return ``{}`` for
    nothing.  Default: nothing.  (BigGAN's orthogonal regularisation, infogan's mutual-information term.)
    """


@hookspec
def ganzoo_extra_state(model: ModelSpec, state: GANState) -> Mapping[str, Any] | None:
    """Return initial non-network training state to keep in ``state.extras`` and in checkpoints.

    Values must be tensors, numbers, strings or lists/dicts of them (checkpoints never pickle objects);
    cyclegan keeps its image pools here.  Default: nothing.
    """


# -- extension hooks (API 2) ------------------------------------------------------------------------------
# Broadcast hooks: every plugin's implementation is called (pluggy's ordinary, not first-result, calling),
# each once when the plugin loads and inside that plugin's guard, so a failure marks only that plugin broken.
# They must stay cheap (no torch import): ``ganzoo list`` and ``ganzoo --help`` run them.  A name that is
# already taken (by the core or another plugin) marks the later plugin broken, naming the owner.


@hookspec
def ganzoo_register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Announce datasets usable by every model via ``--dataset NAME`` (and by bench protocols).

    Call ``register(DatasetSpec(name, factory, description))`` once per dataset.  The core registers its
    own (``digits``, ``shapes``..., the torchvision datasets) through this hook too.
    """


@hookspec
def ganzoo_register_protocols(register: Callable[[Protocol], None]) -> None:
    """Announce evaluation protocol presets usable via ``ganzoo bench --protocol NAME``.

    Call ``register(Protocol(name=..., dataset=..., feature_extractor=..., ...))`` once per preset
    (:class:`ganzoo.metrics.protocol.Protocol`; its ``name`` is the preset name).  The core's presets
    (``digits``, ``shapes``, ``cifar10-train-50k``, ...) are registered the same way.
    """


@hookspec
def ganzoo_register_augmentations(register: Callable[[AugmentationSpec], None]) -> None:
    """Announce augmentations usable via ``data.augment`` (batch stage) or ``train.diffaugment`` (D stage).

    Call ``register(AugmentationSpec(name, factory, description, stage=...))`` once per augmentation; the
    core registers ``jitter``, ``flip`` and DiffAugment's ``color``, ``translation`` and ``cutout``.
    """


@hookspec
def ganzoo_register_commands(register: Callable[[CommandSpec], None]) -> None:
    """Announce ``ganzoo`` subcommands: ``register(CommandSpec(name, help, add_arguments, run))``.

    A name used by a built-in command is refused (the plugin's command is skipped with a warning).
    """


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name, value in list(globals().items()) if name.startswith("ganzoo_") and callable(value)
)
