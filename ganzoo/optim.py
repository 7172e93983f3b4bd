"""Optimizers and learning-rate schedules built from the ``train`` settings.

Every trainable network gets its own optimizer (``train.optimizer`` with ``lr_g`` for generators and ``lr_d``
for discriminators and auxiliary networks), overridable per network or per role under ``[train.optim.NAME]``.
Schedules are pure functions of the step (:func:`lr_factor`), applied by the trainer before every step with
``torch.optim.lr_scheduler.LambdaLR``; a resumed run sets the scheduler to its step, so it continues exactly
without any scheduler state in the checkpoint.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import torch
from torch import nn

from ganzoo.config import NetworkOptimizer, TrainConfig

_FIELDS = tuple(NetworkOptimizer.model_fields)


def network_settings(train: TrainConfig, name: str, role: str) -> dict[str, Any]:
    """The effective optimizer/schedule settings of one network: ``optim[name]`` over ``optim[role]`` over ``train``."""
    settings: dict[str, Any] = {
        "optimizer": train.optimizer,
        "lr": train.lr_g if role == "generator" else train.lr_d,
        "betas": (train.beta1, train.beta2),
        "momentum": train.momentum,
        "weight_decay": train.weight_decay,
        "lr_schedule": train.lr_schedule,
        "lr_decay_start": train.lr_decay_start,
        "lr_step_size": train.lr_step_size,
        "lr_gamma": train.lr_gamma,
    }
    for key in (role, name):
        override = train.optim.get(key)
        if override is not None:
            settings.update({field: value for field in _FIELDS if (value := getattr(override, field)) is not None})
    return settings


def make_optimizer(parameters: Any, settings: Mapping[str, Any]) -> torch.optim.Optimizer:
    """A torch optimizer named by ``settings["optimizer"]`` over ``parameters`` (fused/foreach on CUDA)."""
    kind, lr, decay = settings["optimizer"], settings["lr"], settings["weight_decay"]
    parameters = list(parameters)
    fast = accelerator_options(kind, {p.device.type for p in _tensors(parameters)})
    if kind == "adam":
        return torch.optim.Adam(parameters, lr=lr, betas=tuple(settings["betas"]), weight_decay=decay, **fast)
    if kind == "adamw":
        return torch.optim.AdamW(parameters, lr=lr, betas=tuple(settings["betas"]), weight_decay=decay, **fast)
    if kind == "sgd":
        return torch.optim.SGD(parameters, lr=lr, momentum=settings["momentum"], weight_decay=decay, **fast)
    if kind == "rmsprop":
        return torch.optim.RMSprop(parameters, lr=lr, momentum=settings["momentum"], weight_decay=decay, **fast)
    raise ValueError(f"unknown optimizer {kind!r} (allowed: adam, adamw, sgd, rmsprop)")


def accelerator_options(kind: str, device_types: set[str]) -> dict[str, bool]:
    """Keyword arguments that make ``kind``'s update one or a few kernels when every parameter is on CUDA.

    Adam/AdamW: ``fused=True`` (one kernel per step; works with the fp16 grad scaler); SGD/RMSprop:
    ``foreach=True``.  Elsewhere (CPU, MPS, mixed devices) nothing: torch's defaults, unchanged CPU numerics.
    """
    if device_types != {"cuda"}:
        return {}
    return {"fused": True} if kind in ("adam", "adamw") else {"foreach": True}


def _tensors(parameters: list[Any]) -> list[torch.Tensor]:
    """The tensors of a parameter list or of param-group dicts."""
    tensors: list[torch.Tensor] = []
    for item in parameters:
        tensors.extend(item["params"] if isinstance(item, Mapping) else [item])
    return tensors


def default_optimizers(train: TrainConfig, networks: Mapping[str, nn.Module], roles: Mapping[str, str]) -> dict[str, torch.optim.Optimizer]:
    """One optimizer per network with trainable parameters and a trainable role, keyed by network name."""
    optimizers = {}
    for name, net in networks.items():
        role = roles.get(name, "discriminator")
        params = [p for p in net.parameters() if p.requires_grad]
        if role == "frozen" or not params:
            continue
        optimizers[name] = make_optimizer(params, network_settings(train, name, role))
    return optimizers


def lr_factor(step: int, total_steps: int, settings: Mapping[str, Any]) -> float:
    """The multiplier of the base learning rate at ``step`` (0-based: the step about to be taken).

    ``linear``: 1 until ``lr_decay_start`` (default: half of ``total_steps``), then linearly to 0 at
    ``total_steps`` (pix2pix's / CycleGAN's policy); ``cosine``: half a cosine from 1 to 0 between
    ``lr_decay_start`` (default 0) and ``total_steps``; ``step``: ``lr_gamma ** (step // lr_step_size)``.
    """
    schedule = settings["lr_schedule"]
    if schedule == "constant":
        return 1.0
    if schedule == "step":
        return float(settings["lr_gamma"]) ** (step // int(settings["lr_step_size"]))
    start = settings["lr_decay_start"]
    start = (total_steps // 2 if schedule == "linear" else 0) if start is None else int(start)
    if step < start or total_steps <= start:
        return 1.0
    progress = min(1.0, (step - start) / (total_steps - start))
    if schedule == "linear":
        return max(0.0, 1.0 - progress)
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def optimizer_settings(train: TrainConfig, optimizer_name: str, roles: Mapping[str, str]) -> dict[str, Any]:
    """Settings for an optimizer keyed by ``optimizer_name`` (a network name, or a plugin's own group name)."""
    return network_settings(train, optimizer_name, roles.get(optimizer_name, "discriminator"))


def optimizer_roles(optimizers: Mapping[str, torch.optim.Optimizer], networks: Mapping[str, nn.Module],
                    roles: Mapping[str, str]) -> dict[str, str]:
    """The role of each optimizer: its network's, or for a plugin's group (cyclegan's ``generators`` over two
    networks) the one role of the networks whose parameters it updates (``discriminator`` when mixed)."""
    owner = {id(p): roles.get(name, "discriminator") for name, net in networks.items() for p in net.parameters()}
    result = {}
    for name, optimizer in optimizers.items():
        found = {owner[id(p)] for p in _tensors(optimizer.param_groups) if id(p) in owner}
        result[name] = roles.get(name) or (found.pop() if len(found) == 1 else "discriminator")
    return result


class Schedules:
    """The lr schedule of each optimizer; :meth:`at` puts every optimizer's lr at ``base * factor(step)``.

    Hand-written rather than ``LambdaLR``: the lr is a pure function of the step, set directly, so a resumed run
    needs no scheduler state and no warning about the order of ``scheduler.step()`` calls arises.
    """

    def __init__(self, optimizers: Mapping[str, torch.optim.Optimizer], train: TrainConfig, roles: Mapping[str, str]) -> None:
        self.total = train.steps
        self.optimizers = dict(optimizers)
        self.settings = {name: optimizer_settings(train, name, roles) for name in optimizers}
        self.base_lrs = {name: [group.setdefault("initial_lr", group["lr"]) for group in opt.param_groups]
                         for name, opt in optimizers.items()}

    def factor(self, name: str, step: int) -> float:
        """The lr factor of optimizer ``name`` at ``step``."""
        return lr_factor(step, self.total, self.settings[name])

    def at(self, step: int) -> None:
        """Set the learning rates for ``step`` (a pure function of it: resuming needs no saved scheduler state)."""
        for name, optimizer in self.optimizers.items():
            if self.settings[name]["lr_schedule"] == "constant":
                continue
            factor = self.factor(name, step)
            for group, base in zip(optimizer.param_groups, self.base_lrs[name]):
                group["lr"] = base * factor
