"""Running an image-to-image generator for inference (shared by pix2pix and cyclegan).

Their linear lr decay is the core's ``train.lr_schedule = "linear"`` (:mod:`ganzoo.optim`)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


def _random_devices(device: torch.device) -> list[torch.device]:
    return [device] if device.type == "cuda" else []


@torch.no_grad()
def translate_images(
    net: nn.Module,
    inputs: torch.Tensor,
    generator: torch.Generator | None = None,
    keep_dropout: bool = False,
    batch_statistics: bool = False,
) -> torch.Tensor:
    """``net(inputs)`` in eval mode (dropout kept on when asked), clamped to [-1, 1] as float32.

    ``batch_statistics`` normalises BatchNorm layers with the statistics of ``inputs`` (the reference pix2pix
    runs its test pass in train mode) without touching their running statistics.  Randomness (dropout) is
    drawn from a forked RNG seeded from ``generator``, so sampling is reproducible and never advances the
    training RNG; the network's train/eval mode is restored afterwards.
    """
    modes = [(module, module.training) for module in net.modules()]
    device = inputs.device
    try:
        net.eval()
        for module in net.modules():
            if (keep_dropout and isinstance(module, nn.modules.dropout._DropoutNd)) or (
                batch_statistics and isinstance(module, nn.modules.batchnorm._BatchNorm)
            ):
                module.train(True)
        with torch.random.fork_rng(devices=_random_devices(device)), _frozen_running_statistics(net):
            if generator is not None:
                seed = int(torch.randint(0, 2**62, (), generator=generator, device=generator.device))
                torch.manual_seed(seed)
            outputs = net(inputs)
    finally:
        for module, training in modes:
            module.training = training
    return outputs.float().clamp(-1, 1)


@contextmanager
def _frozen_running_statistics(net: nn.Module) -> Iterator[None]:
    """Restore every BatchNorm running buffer afterwards: a test pass in train mode must not change the model."""
    saved = [
        (module, {name: buffer.clone() for name, buffer in module.named_buffers(recurse=False) if buffer is not None})
        for module in net.modules()
        if isinstance(module, nn.modules.batchnorm._BatchNorm)
    ]
    try:
        yield
    finally:
        for module, buffers in saved:
            for name, value in buffers.items():
                getattr(module, name).copy_(value)
