"""A third-party plugin written against plugin API 1 and the API-1 docs/plugins.md, kept unchanged.

It must keep loading, training, sampling and benching under every later API (tests/test_api1_compat.py).
Do not modernise it: its value is that it looks like plugins already published.  It uses what API 1
documented: ``state.noise``/``generate``/``discriminate``/``optimize(name, loss)``, metrics as Python floats,
a helper network frozen with ``requires_grad=False`` inside the discriminator mapping, an optimizer hook with
``generator_names``, a sampler with only some of the hook's arguments, and ``None`` to fall back to a default.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ganzoo import ModelConfig, ModelSpec, hookimpl

GANZOO_API = ">=1.0,<2"


class DemoConfig(ModelConfig):
    """A tiny class-conditional MLP GAN."""

    image_size: int = 8
    channels: int = 1
    num_classes: int = 10
    latent_dim: int = 6
    width: int = Field(16, ge=1, description="hidden units")


@hookimpl
def ganzoo_register_models(register: Any) -> None:
    register(ModelSpec(
        name="api1-demo", task="class-conditional", config_class=DemoConfig, paper="A demo paper",
        description="an API-1 plugin kept as a compatibility test", train_defaults={"lr_g": 1e-3, "lr_d": 1e-3},
        tiny_config={"width": 8},
    ))


def _networks(config: Any) -> tuple[Any, Any, Any]:
    import torch
    from torch import nn

    pixels = config.channels * config.image_size**2

    class Generator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(config.num_classes, config.latent_dim)
            self.net = nn.Sequential(nn.Linear(config.latent_dim, config.width), nn.ReLU(), nn.Linear(config.width, pixels))

        def forward(self, z: Any, labels: Any) -> Any:
            out = torch.tanh(self.net(z + self.embed(labels)))
            return out.view(len(z), config.channels, config.image_size, config.image_size)

    class Discriminator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(config.num_classes, pixels)
            self.net = nn.Sequential(nn.Linear(pixels, config.width), nn.LeakyReLU(0.2), nn.Linear(config.width, 1))

        def forward(self, images: Any, labels: Any) -> Any:
            flat = images.flatten(1)
            return self.net(flat + self.embed(labels)).flatten()

    helper = nn.Linear(pixels, 2)
    helper.requires_grad_(False)  # API 1: a fixed network is one without trainable parameters
    return Generator(), Discriminator(), helper


@hookimpl
def ganzoo_build_generator(config: DemoConfig) -> Any:
    return _networks(config)[0]


@hookimpl
def ganzoo_build_discriminator(config: DemoConfig) -> Any:
    _, discriminator, helper = _networks(config)
    return {"discriminator": discriminator, "helper": helper}


@hookimpl
def ganzoo_configure_optimizers(config: Any, networks: Any, generator_names: list[str]) -> Any:
    import torch

    train = config.train
    return {
        name: torch.optim.Adam(net.parameters(), lr=train.lr_g if name in generator_names else train.lr_d,
                               betas=(train.beta1, train.beta2))
        for name, net in networks.items() if any(p.requires_grad for p in net.parameters())
    }


@hookimpl
def ganzoo_train_step(state: Any, batches: Any) -> dict[str, float]:
    batch = batches.next()
    real, labels = batch["image"], batch["label"]
    with state.autocast():
        fake = state.generate(state.noise(real.size(0)), labels)
        d_loss = state.loss.discriminator_loss(state.discriminate(real, labels), state.discriminate(fake.detach(), labels))
    state.optimize("discriminator", d_loss)
    with state.autocast():
        g_loss = state.loss.generator_loss(state.discriminate(fake, labels))
    state.optimize("generator", g_loss)
    return {"loss_d": float(d_loss.detach()), "loss_g": float(g_loss.detach())}


@hookimpl
def ganzoo_sample(state: Any, num: int, labels: Any, generator: Any) -> Any:
    net = state.sampling_network("generator")
    was_training = net.training
    net.eval()
    if labels is None:
        labels = state.random_labels(num, generator)
    images = net(state.noise(num, generator), labels.to(state.device))
    net.train(was_training)
    return images.clamp(-1, 1)


@hookimpl
def ganzoo_preview(model: Any, state: Any, batch: Any) -> Any:
    return None  # API 1: None falls back to the core's default
