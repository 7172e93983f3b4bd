"""Helpers behind the conformance kit, usable in any plugin's own tests.

Everything runs on the CPU with a model's ``tiny_config`` so that a whole suite takes seconds.
"""

from __future__ import annotations

import itertools
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from ganzoo.config import RunConfig, resolve_config
from ganzoo.plugins import PluginHost, get_host
from ganzoo.specs import ModelSpec
from ganzoo.state import GANState, IteratorBatchSource, build_state, seed_everything

TINY_BATCH_SIZE = 4
# Config fields image-to-image models may use for the channels of their source / second domain.
_SOURCE_CHANNEL_FIELDS = ("input_channels", "in_channels", "channels_a", "source_channels")
_TARGET_CHANNEL_FIELDS = ("output_channels", "out_channels", "channels_b", "target_channels")


def _spec(model: ModelSpec | str, host: PluginHost | None) -> ModelSpec:
    return (host or get_host()).get_model(model) if isinstance(model, str) else model


def tiny_run_config(
    model: ModelSpec | str, seed: int = 0, batch_size: int = TINY_BATCH_SIZE, host: PluginHost | None = None, **train: Any
) -> RunConfig:
    """The model's ``tiny_config`` resolved into a CPU :class:`RunConfig` (extra ``train`` settings as keywords)."""
    spec = _spec(model, host)
    train_values = {"batch_size": batch_size, "device": "cpu", "seed": seed, "progress": False, **train}
    return resolve_config(spec, values={"model": dict(spec.tiny_config), "train": train_values})


def build_tiny_state(
    model: ModelSpec | str, seed: int = 0, batch_size: int = TINY_BATCH_SIZE, host: PluginHost | None = None, **train: Any
) -> GANState:
    """A seeded CPU :class:`GANState` built from the model's ``tiny_config``."""
    spec = _spec(model, host)
    config = tiny_run_config(spec, seed=seed, batch_size=batch_size, host=host, **train)
    seed_everything(seed)
    return build_state(spec, config, device="cpu", host=host)


def _channels(config: Any, fields: tuple[str, ...]) -> int:
    for field in fields:
        value = getattr(config, field, None)
        if isinstance(value, int) and value > 0:
            return value
    return int(config.channels)


def source_channels(config: Any) -> int:
    """Channels of an image-to-image model's source images (``input`` / ``a``)."""
    return _channels(config, _SOURCE_CHANNEL_FIELDS)


def target_channels(config: Any) -> int:
    """Channels of an image-to-image model's target images (``image`` / ``b``)."""
    return _channels(config, _TARGET_CHANNEL_FIELDS)


def _images(num: int, channels: int, size: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(num, channels, size, size, generator=generator) * 2 - 1


def synthetic_batch(spec: ModelSpec, config: Any, batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """One random batch with the keys of ``spec``'s task kind (see the batch convention in the docs).

    ``config`` is the model section (:class:`~ganzoo.config.ModelConfig`).  Images are uniform in ``[-1, 1]``.
    """
    size = int(config.image_size)
    if spec.task == "paired-image-to-image":
        return {"input": _images(batch_size, source_channels(config), size, generator),
                "image": _images(batch_size, target_channels(config), size, generator)}
    if spec.task == "unpaired-image-to-image":
        return {"a": _images(batch_size, source_channels(config), size, generator),
                "b": _images(batch_size, target_channels(config), size, generator)}
    batch = {"image": _images(batch_size, int(config.channels), size, generator)}
    if spec.conditional:
        if config.num_classes < 1:
            raise ValueError(f"model {spec.name!r} is class-conditional but its config has num_classes = {config.num_classes}")
        batch["label"] = torch.randint(0, config.num_classes, (batch_size,), generator=generator)
    return batch


def batch_iterator(spec: ModelSpec, config: Any, batch_size: int, seed: int = 0) -> Iterator[dict[str, torch.Tensor]]:
    """An endless, seeded stream of :func:`synthetic_batch` batches."""
    generator = torch.Generator().manual_seed(seed)
    for _ in itertools.count():
        yield synthetic_batch(spec, config, batch_size, generator)


def synthetic_batches(state: GANState, batch_size: int | None = None, seed: int = 0) -> IteratorBatchSource:
    """A :class:`IteratorBatchSource` of synthetic batches for ``state``'s model, on its device."""
    size = batch_size or state.config.train.batch_size
    return IteratorBatchSource(batch_iterator(state.spec, state.model_config, size, seed), state.device)


def parameters_snapshot(state: GANState) -> dict[str, dict[str, torch.Tensor]]:
    """Copies of every network's parameters, keyed by network then parameter name."""
    return {
        name: {key: value.detach().clone() for key, value in state.unwrapped(name).named_parameters()}
        for name in state.networks
    }


def changed_networks(before: Mapping[str, Mapping[str, torch.Tensor]], after: Mapping[str, Mapping[str, torch.Tensor]]) -> set[str]:
    """Names of networks with at least one parameter that differs between two snapshots."""
    return {
        name
        for name, params in before.items()
        if any(not torch.equal(value, after[name][key]) for key, value in params.items())
    }


def sample_inputs(state: GANState, num: int, seed: int = 0) -> dict[str, Any]:
    """Keyword arguments for ``ganzoo_sample`` that the model's task needs (source images, labels, direction)."""
    spec, config = state.spec, state.model_config
    generator = torch.Generator().manual_seed(seed)
    kwargs: dict[str, Any] = {}
    if spec.image_to_image:
        kwargs["inputs"] = _images(num, source_channels(config), int(config.image_size), generator).to(state.device)
    if spec.task == "unpaired-image-to-image":
        kwargs["direction"] = "AtoB"
    if spec.conditional:
        kwargs["labels"] = torch.arange(num, device=state.device) % max(int(config.num_classes), 1)
    return kwargs


def sample_images(state: GANState, num: int, seed: int = 0, host: PluginHost | None = None, **kwargs: Any) -> torch.Tensor:
    """``num`` samples through the model's ``ganzoo_sample`` hook with a seeded generator (inputs made up as needed)."""
    arguments = {**sample_inputs(state, num, seed), **kwargs}
    torch.manual_seed(seed)  # for samplers that draw from the global generator (dropout at test time)
    generator = torch.Generator().manual_seed(seed)
    return (host or get_host()).call("ganzoo_sample", state.spec, state=state, num=num, generator=generator, **arguments)


def trainable_networks(state: GANState) -> dict[str, nn.Module]:
    """The networks that have an optimizer (the ones a train step must update)."""
    return {name: state.unwrapped(name) for name in state.optimizers if name in state.networks}
