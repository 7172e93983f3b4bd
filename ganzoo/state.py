"""The live objects of a run: networks, optimizers, loss and helpers that train steps use.

:func:`build_state` turns a model spec and a resolved :class:`~ganzoo.config.RunConfig` into a
:class:`GANState` by calling the model's hooks.  Train steps (the default one and plugins' own) go through
the state's helpers (``autocast``, ``optimize``, ``noise``, ``generate``) so that mixed precision, gradient
scaling, EMA and distributed wrappers are handled in one place.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any, Callable, Iterator, Mapping, Protocol, Sequence

import torch
from torch import nn

from ganzoo.augment import Augmenter, build_augmenter
from ganzoo.config import ConfigError, RunConfig
from ganzoo.latents import Latent, draw_latents, validate_latents
from ganzoo.losses import GANLoss, batchnorm_layers
from ganzoo.optim import Schedules, optimizer_roles
from ganzoo.optim import default_optimizers as _optimizers_by_role
from ganzoo.plugins import PluginContractError, PluginHost, check_hook_result, get_host
from ganzoo.specs import ROLES, ModelSpec


class BatchSource(Protocol):
    """Hands train steps their batches; the trainer counts them so a resumed run continues exactly.

    ``epoch`` is the (0-based) pass over the data the next batch comes from.
    """

    epoch: int

    def next(self) -> dict[str, torch.Tensor]:
        """The next batch, a dict of tensors on the state's device."""
        ...


class IteratorBatchSource:
    """A :class:`BatchSource` over any iterator of batches (moved to ``device``), counting what it hands out."""

    def __init__(self, batches: Iterator[Mapping[str, torch.Tensor]], device: torch.device | str = "cpu") -> None:
        self._batches = batches
        self.device = torch.device(device)
        self.consumed = 0
        self.epoch = 0

    def next(self) -> dict[str, torch.Tensor]:
        batch = next(self._batches)
        self.consumed += 1
        return {key: value.to(self.device, non_blocking=True) for key, value in batch.items()}


def _as_network_dict(result: nn.Module | Mapping[str, nn.Module], default_name: str, hook: str, spec: ModelSpec) -> dict[str, nn.Module]:
    if isinstance(result, nn.Module) and not isinstance(result, nn.ModuleDict):
        return {default_name: result}
    if isinstance(result, Mapping):
        networks = dict(result.items())
        bad = [name for name, net in networks.items() if not isinstance(net, nn.Module)]
        if not bad:
            return networks
    raise PluginContractError(f"{hook} of plugin {spec.distribution} (model {spec.name!r}) returned "
                              f"{type(result).__name__}; expected an nn.Module or a mapping of names to nn.Modules")


def resolve_device(name: str) -> torch.device:
    """``train.device``: ``auto`` picks CUDA, then MPS, then CPU; an unavailable device is a clear error."""
    from ganzoo.devices import resolve_device as resolve

    return resolve(name, setting="train.device")


def configure_backends(device: torch.device, tf32: bool = True) -> None:
    """Process-wide math settings for training on ``device``: on CUDA, TF32 for fp32 matmuls and convolutions
    (``tf32``; ~8x the fp32 tensor throughput of Ampere and later at GAN-irrelevant precision) and cuDNN's
    autotuner (fixed shapes every step).  Nothing changes on other devices."""
    if device.type != "cuda":
        return
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True


class GANState:
    """Networks, optimizers, loss and runtime helpers for one model; what train steps operate on.

    Public attributes plugin code may read: ``spec`` (the :class:`~ganzoo.specs.ModelSpec`), ``config`` (the
    resolved :class:`~ganzoo.config.RunConfig`; ``model_config`` is ``config.model``), ``networks`` (name ->
    module; under DDP trainable ones are ``DistributedDataParallel`` wrappers: call them for training forward
    passes so gradients are synchronised, use :meth:`unwrapped` for attributes and sub-modules), ``roles``
    (name -> ``generator``/``discriminator``/``auxiliary``/``frozen``), ``generator_names``, ``optimizers``
    (name -> torch optimizer), ``loss`` (the :class:`~ganzoo.losses.GANLoss`), ``gp_weight`` (gradient-penalty
    weight, 0 for none), ``latents`` (name -> prior), ``device``, ``step`` (completed train steps; the trainer
    increments it), ``extras`` (checkpointed plugin state: tensors and plain values), ``ema`` (name -> EMA copy of
    generators), ``schedules`` (the optimizers' lr schedules; the trainer applies them before every step),
    ``host`` (the plugin host: ``state.host.call("ganzoo_sample", state.spec, state=state, ...)`` calls a hook of
    the model, the plugin's implementation or the core default).

    Mixed precision: ``train.precision`` bf16/fp16 applies inside ``with state.autocast():``; :meth:`optimize`
    scales fp16 losses with the gradient scaler (CUDA) and unscales before clipping or ``before_step``.
    """

    def __init__(
        self,
        spec: ModelSpec,
        config: RunConfig,
        networks: dict[str, nn.Module],
        generator_names: list[str],
        optimizers: dict[str, torch.optim.Optimizer],
        loss: GANLoss,
        gp_weight: float,
        device: torch.device,
        roles: Mapping[str, str] | None = None,
        latents: Mapping[str, Latent] | None = None,
    ) -> None:
        self.spec = spec
        self.config = config
        self.networks = networks
        self.generator_names = generator_names
        self.optimizers = optimizers
        self.loss = loss
        self.gp_weight = gp_weight
        self.device = device
        self.roles = dict(roles) if roles is not None else {
            name: "generator" if name in generator_names else "discriminator" for name in networks
        }
        self.latents: dict[str, Latent] = dict(latents) if latents is not None else (
            {} if spec.image_to_image else {"z": _normal(config.model.latent_dim)}
        )
        self.schedules = Schedules(optimizers, config.train, optimizer_roles(optimizers, networks, self.roles))
        self.host: PluginHost = get_host()
        self.step = 0
        self.extras: dict[str, Any] = {}
        self.augmenter: Augmenter | None = None  # set by build_state from data.augment / train.diffaugment
        self.ema: dict[str, torch.optim.swa_utils.AveragedModel] = {}
        precision = config.train.precision
        self.autocast_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16" and device.type == "cuda")

    # -- conveniences for train steps -------------------------------------------------------------
    @property
    def model_config(self) -> Any:
        """The validated model section of the config (``config.model``)."""
        return self.config.model

    def networks_with_role(self, role: str) -> list[str]:
        """Names of the networks that have ``role`` (``generator``, ``discriminator``, ``auxiliary``, ``frozen``)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (allowed: {', '.join(ROLES)})")
        return [name for name in self.networks if self.roles.get(name) == role]

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Autocast context for forward passes at the configured precision (a no-op for fp32)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def optimize(
        self,
        names: str | Sequence[str],
        loss: torch.Tensor,
        retain_graph: bool = False,
        before_step: Callable[[GANState], None] | None = None,
        clip_grad_norm: float | None = None,
    ) -> None:
        """Step the optimizers ``names`` (one name or several) from one backward pass of ``loss``.

        Clears those optimizers' gradients first (``set_to_none``), backpropagates ``loss`` (scaled under fp16),
        unscales the gradients, clips each optimizer's parameters to ``clip_grad_norm`` (total L2 norm) when given,
        calls ``before_step(state)`` (gradients are unscaled there: inspect or edit them), then steps every
        optimizer and updates the gradient scaler once.  Gradients that ``loss`` leaves in *other* networks are
        not cleared here; they are cleared when those networks' optimizers are next used.  Under DDP the
        backward pass through wrapped networks all-reduces their gradients, so call ``state.networks[...]``
        (the wrappers) in the forward pass.
        """
        names = [names] if isinstance(names, str) else list(names)
        unknown = [name for name in names if name not in self.optimizers]
        if unknown:
            raise KeyError(f"state.optimize: no optimizer named {', '.join(map(repr, unknown))} for model "
                           f"{self.spec.name!r} (optimizers: {', '.join(self.optimizers)})")
        optimizers = [self.optimizers[name] for name in names]
        for optimizer in optimizers:
            optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward(retain_graph=retain_graph)
        if clip_grad_norm is not None or before_step is not None:
            for optimizer in optimizers:
                self.scaler.unscale_(optimizer)
        if clip_grad_norm is not None:
            for optimizer in optimizers:
                params = [p for group in optimizer.param_groups for p in group["params"]]
                torch.nn.utils.clip_grad_norm_(params, clip_grad_norm)
        if before_step is not None:
            before_step(self)
        for optimizer in optimizers:
            self.scaler.step(optimizer)
        self.scaler.update()

    def noise(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Standard normal latent vectors of size ``model.latent_dim``.

        With a ``generator`` they are drawn on the generator's device and then moved to the model's, so a
        seeded CPU generator gives the same latents on every device.
        """
        device = generator.device if generator is not None else self.device
        return torch.randn(num, self.model_config.latent_dim, device=device, generator=generator).to(self.device)

    def draw_latents(
        self,
        num: int,
        generator: torch.Generator | None = None,
        given: Mapping[str, torch.Tensor] | None = None,
        truncation: float | None = None,
    ) -> dict[str, torch.Tensor]:
        """One tensor per declared latent (see :func:`ganzoo.latents.draw_latents`), on ``state.device``.

        ``generator`` (a CPU ``torch.Generator``) makes the draws identical on every device; without it the
        device's global RNG is used (training).  ``given`` values are kept as they are.
        """
        return draw_latents(self.latents, num, generator, self.device, given, truncation, owner=f"model {self.spec.name!r}")

    def random_labels(self, num: int, generator: torch.Generator | None = None) -> torch.Tensor | None:
        """Uniform class labels for conditional models, ``None`` for unconditional ones (drawn like :meth:`noise`)."""
        if not self.spec.conditional:
            return None
        device = generator.device if generator is not None else self.device
        labels = torch.randint(0, self.model_config.num_classes, (num,), device=device, generator=generator)
        return labels.to(self.device)

    def generate(
        self, latents: torch.Tensor | Mapping[str, torch.Tensor], labels: torch.Tensor | None = None,
        network: str = "generator",
    ) -> torch.Tensor:
        """Call a generator with the calling convention of the model: ``G(z)`` / ``G(z, y)`` for one latent (or a
        bare tensor), ``G(**latents)`` / ``G(**latents, y=y)`` for several."""
        return call_generator(self.networks[network], latents, labels if self.spec.conditional else None)

    def discriminate(self, images: torch.Tensor, labels: torch.Tensor | None = None, network: str = "discriminator") -> torch.Tensor:
        """Call a discriminator with the calling convention of the model's task.

        With ``train.diffaugment`` set, ``images`` first pass through DiffAugment (differentiably), so every
        step that scores real and fake images through this method augments both, as the paper prescribes.
        """
        net = self.networks[network]
        if self.augmenter is not None:
            images = self.augmenter.augment_for_discriminator(images, self.extras)
        return net(images, labels) if self.spec.conditional else net(images)

    def unwrapped(self, name: str) -> nn.Module:
        """The network without a DistributedDataParallel wrapper."""
        net = self.networks[name]
        return net.module if isinstance(net, nn.parallel.DistributedDataParallel) else net

    def sampling_network(self, name: str = "generator") -> nn.Module:
        """The network to sample from: its EMA copy when one is kept, else the network itself."""
        if name in self.ema:
            return self.ema[name].module
        return self.unwrapped(name)

    def train(self) -> None:
        """Training mode for every network except frozen ones (they always stay in eval mode)."""
        for name, net in self.networks.items():
            net.train(self.roles.get(name) != "frozen")

    def eval(self) -> None:
        """Eval mode for every network and EMA copy."""
        for net in self.networks.values():
            net.eval()
        for averaged in self.ema.values():
            averaged.eval()

    # -- serialisation -----------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue training, as tensors and plain values (no pickled objects)."""
        return {
            "step": self.step,
            "networks": {name: self.unwrapped(name).state_dict() for name in self.networks},
            "optimizers": {name: opt.state_dict() for name, opt in self.optimizers.items()},
            "ema": {name: averaged.state_dict() for name, averaged in self.ema.items()},
            "scaler": self.scaler.state_dict(),
            "extras": self.extras,
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` produced; network names must match exactly."""
        missing = set(self.networks) ^ set(state["networks"])
        if missing:
            raise ValueError(f"checkpoint networks do not match model {self.spec.name!r}: {', '.join(sorted(missing))}")
        for name, weights in state["networks"].items():
            self.unwrapped(name).load_state_dict(weights)
        for name, opt_state in state["optimizers"].items():
            self.optimizers[name].load_state_dict(opt_state)
            _keep_kernel_choice(self.optimizers[name])
        for name, ema_state in state.get("ema", {}).items():
            if name in self.ema:
                self.ema[name].load_state_dict(ema_state)
        if state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.extras = dict(state.get("extras", {}))
        self.step = int(state["step"])

    # -- EMA -------------------------------------------------------------------------------------
    def enable_ema(self, decay: float) -> None:
        """Keep an exponential moving average of every generator-role network (BatchNorm buffers included)."""
        multi_avg = torch.optim.swa_utils.get_ema_multi_avg_fn(decay)
        for name in self.networks_with_role("generator"):
            self.ema[name] = torch.optim.swa_utils.AveragedModel(
                self.unwrapped(name), multi_avg_fn=multi_avg, use_buffers=True
            )

    def update_ema(self) -> None:
        """Fold the current generator weights into the EMA (before ``train.ema_start`` the EMA copies them).

        Spectral norms' ``u``/``v`` buffers are averaged like the other buffers, which leaves them off the unit
        sphere; one power iteration on the averaged weight puts them back (:mod:`ganzoo.nn.spectral`).
        """
        from ganzoo.nn.spectral import refresh_spectral_norms

        for name, averaged in self.ema.items():
            source = self.unwrapped(name)
            if self.step < self.config.train.ema_start:
                averaged.module.load_state_dict(source.state_dict())
            else:
                averaged.update_parameters(source)
                refresh_spectral_norms(averaged.module)


def _keep_kernel_choice(optimizer: torch.optim.Optimizer) -> None:
    """After loading a checkpoint written on another device, use this device's fused/foreach choice.

    ``load_state_dict`` copies a group's ``fused``/``foreach`` flags from the file: a CUDA run's ``fused=True``
    would follow the checkpoint to a CPU (or the CPU default to a GPU).  The optimizer's own defaults are the
    choice made for where it runs now.
    """
    for group in optimizer.param_groups:
        for flag in ("fused", "foreach"):
            if flag in optimizer.defaults:
                group[flag] = optimizer.defaults[flag]


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators (any non-negative seed; NumPy takes it mod 2**32)."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _normal(dim: int) -> Latent:
    from ganzoo.latents import Normal

    return Normal(dim)


def call_generator(net: nn.Module, latents: torch.Tensor | Mapping[str, torch.Tensor], labels: torch.Tensor | None) -> torch.Tensor:
    """``net(z[, y])`` for a tensor or a single latent, ``net(**latents[, y=y])`` for several."""
    if isinstance(latents, Mapping):
        if len(latents) != 1:
            return net(**latents) if labels is None else net(**latents, y=labels)
        latents = next(iter(latents.values()))
    return net(latents) if labels is None else net(latents, labels)


def default_optimizers(
    config: RunConfig, networks: Mapping[str, nn.Module], generator_names: list[str], roles: Mapping[str, str] | None = None
) -> dict[str, torch.optim.Optimizer]:
    """One optimizer per trainable network from the ``train`` settings (see :mod:`ganzoo.optim`)."""
    roles = roles or {name: "generator" if name in generator_names else "discriminator" for name in networks}
    return _optimizers_by_role(config.train, networks, roles)


def build_state(
    spec: ModelSpec | str,
    config: RunConfig,
    device: torch.device | str | None = None,
    host: PluginHost | None = None,
    inference: bool = False,
) -> GANState:
    """Build networks, optimizers and loss for ``spec`` through its plugin's hooks (or the core defaults).

    ``inference`` (sampling, benchmarking): a loss whose plugin is not installed is replaced by a stand-in
    that refuses to compute anything, since inference needs no loss.
    """
    host = host or get_host()
    spec = host.get_model(spec) if isinstance(spec, str) else spec
    device = resolve_device(config.train.device) if device is None else torch.device(device)
    generators = _as_network_dict(
        host.call("ganzoo_build_generator", spec, config=config.model), "generator", "ganzoo_build_generator", spec
    )
    discriminators = _as_network_dict(
        host.call("ganzoo_build_discriminator", spec, config=config.model), "discriminator", "ganzoo_build_discriminator", spec
    )
    clash = set(generators) & set(discriminators)
    if clash:
        raise TypeError(f"model {spec.name!r}: network names used twice: {', '.join(sorted(clash))}")
    networks = {**generators, **discriminators}
    memory_format = torch.channels_last if config.train.channels_last else torch.preserve_format
    for name, net in networks.items():
        networks[name] = net.to(device=device, memory_format=memory_format)
    roles = _network_roles(spec, generators, discriminators)
    for name, net in networks.items():
        if roles[name] == "frozen":
            net.requires_grad_(False).eval()
    generator_names = [name for name in networks if roles[name] == "generator"]
    optimizers = dict(check_hook_result(spec, "ganzoo_configure_optimizers", host.call(
        "ganzoo_configure_optimizers", spec, config=config, networks=networks, generator_names=generator_names,
        roles=roles,
    )))
    _check_optim_keys(spec, config, networks, optimizers)
    frozen_optimized = sorted(set(optimizers) & {name for name, role in roles.items() if role == "frozen"})
    if frozen_optimized:
        raise TypeError(f"model {spec.name!r}: ganzoo_configure_optimizers made optimizers for frozen network(s) "
                        f"{', '.join(frozen_optimized)}")
    loss = _build_loss(host, spec, config, inference)
    gp_weight = _gradient_penalty_weight(host, spec, config, discriminators)
    latents = validate_latents(host.call("ganzoo_latents", spec, config=config.model), f"model {spec.name!r}")
    state = GANState(spec, config, networks, generator_names, optimizers, loss, gp_weight, device, roles, latents)
    state.host = host
    state.extras.update(check_hook_result(spec, "ganzoo_extra_state", host.call("ganzoo_extra_state", spec, state=state) or {}))
    state.augmenter = build_augmenter(config, spec, host)
    if config.train.ema_decay is not None:
        state.enable_ema(config.train.ema_decay)
    return state


def _check_optim_keys(spec: ModelSpec, config: RunConfig, networks: Mapping[str, nn.Module],
                      optimizers: Mapping[str, Any]) -> None:
    """``[train.optim.KEY]`` must name a network, an optimizer or a role of this model (a typo must not be ignored)."""
    known = [*networks, *(name for name in optimizers if name not in networks), *ROLES]
    unknown = [key for key in config.train.optim if key not in known]
    if unknown:
        raise ConfigError(f"train.optim.{unknown[0]}: model {spec.name!r} has no network, optimizer or role of that "
                          f"name (allowed: {', '.join(known)})")


def _network_roles(spec: ModelSpec, generators: Mapping[str, nn.Module], discriminators: Mapping[str, nn.Module]) -> dict[str, str]:
    """Role per network: the spec's ``roles`` over the role of the hook that built it."""
    unknown = sorted(set(spec.roles) - set(generators) - set(discriminators))
    if unknown:
        raise TypeError(f"model {spec.name!r}: ModelSpec.roles names network(s) {', '.join(unknown)} that its hooks "
                        f"do not build (networks: {', '.join([*generators, *discriminators])})")
    roles = {name: "generator" for name in generators} | {name: "discriminator" for name in discriminators}
    roles.update(spec.roles)
    if not any(role == "generator" for role in roles.values()):
        raise TypeError(f"model {spec.name!r} has no network with the generator role")
    return roles


def _build_loss(host: PluginHost, spec: ModelSpec, config: RunConfig, inference: bool) -> GANLoss:
    from ganzoo.plugins import UnknownNameError

    try:
        return host.call("ganzoo_loss", spec, config=config)
    except UnknownNameError as exc:
        if not inference:
            raise
        from ganzoo.losses import UnavailableLoss

        return UnavailableLoss(config.train.loss, str(exc))


def _gradient_penalty_weight(host: PluginHost, spec: ModelSpec, config: RunConfig, discriminators: Mapping[str, nn.Module]) -> float:
    weight = config.train.gp_weight
    if weight is None:
        loss_name = config.train.loss
        weight = host.get_loss(loss_name).gradient_penalty if loss_name in host.list_losses() else 0.0
    if weight > 0:
        offending = batchnorm_layers(discriminators.items())
        if offending:
            raise ConfigError(
                f"a gradient penalty (weight {weight}) cannot be used with model {spec.name!r}: its discriminator "
                f"has BatchNorm layers ({', '.join(offending[:3])}{', ...' if len(offending) > 3 else ''}), which mix "
                "samples and make the per-sample gradient norm meaningless; use a model whose critic has no "
                "BatchNorm (e.g. wgan-gp) or set train.gp_weight=0"
            )
    return float(weight)


def clone_for_sampling(module: nn.Module) -> nn.Module:
    """A detached eval-mode copy of a network (for sampling while training continues)."""
    return copy.deepcopy(module).eval().requires_grad_(False)
