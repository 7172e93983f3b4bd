"""The conformance kit itself: it passes a correct model and catches each kind of broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from ganzoo.plugins import PluginHost
from ganzoo.testing import ConformanceSuite, conformance_tests, install_fake_plugin

PLUGIN = '''
import os
import torch
from torch import nn
from ganzoo import ModelConfig, ModelSpec, hookimpl
from ganzoo.defaults import train_step

GANZOO_API = ">=1.0,<2"
MODELS = ["good-mlp", "wide-range", "no-paper", "lazy-step", "noisy-step", "int-metric", "cond-mlp"]
TRANSLATORS = {"paired-conv": "paired-image-to-image", "unpaired-conv": "unpaired-image-to-image"}


class Translator(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.net = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, images):
        return torch.tanh(self.net(images))


def translator_step(model, state, batches):
    """A minimal translation step: one D update, one G update with an L1 term (enough for the kit)."""
    batch = batches.next()
    source, target = (batch["input"], batch["image"]) if "input" in batch else (batch["a"], batch["b"])
    g_name, d_name = ("generator", "discriminator") if "input" in batch else ("g_ab", "d_b")
    fake = state.networks[g_name](source)
    d_loss = state.loss.discriminator_loss(state.networks[d_name](target), state.networks[d_name](fake.detach()))
    state.optimize(d_name, d_loss)
    g_loss = state.loss.generator_loss(state.networks[d_name](fake)) + (fake - target).abs().mean()
    state.optimize(g_name, g_loss)
    if "a" in batch:  # train the other direction too so that every optimised network changes
        back = state.networks["g_ba"](target)
        state.optimize("d_a", state.loss.discriminator_loss(state.networks["d_a"](source), state.networks["d_a"](back.detach())))
        state.optimize("g_ba", state.loss.generator_loss(state.networks["d_a"](back)))
    return {"loss_d": float(d_loss.detach()), "loss_g": float(g_loss.detach())}


class Generator(nn.Module):
    def __init__(self, config, scale=1.0):
        super().__init__()
        self.shape, self.scale = (config.channels, config.image_size, config.image_size), scale
        self.embed = nn.Embedding(max(config.num_classes, 1), config.latent_dim)
        self.net = nn.Linear(config.latent_dim, config.channels * config.image_size ** 2)

    def forward(self, z, labels=None):
        if labels is not None:
            z = z + self.embed(labels)
        return self.scale * torch.tanh(self.net(z)).view(z.size(0), *self.shape)


class Discriminator(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.net = nn.Linear(config.channels * config.image_size ** 2, 1)

    def forward(self, images, labels=None):
        return self.net(images.flatten(1)).flatten()


@hookimpl
def ganzoo_register_models(register):
    for name in MODELS:
        register(ModelSpec(
            name=name, task="class-conditional" if name == "cond-mlp" else "unconditional", config_class=ModelConfig,
            paper="" if name == "no-paper" else "A paper", description="a test model",
            tiny_config={"image_size": 8, "latent_dim": 4, "channels": 1, "num_classes": 3 if name == "cond-mlp" else 0},
        ))
    for name, task in TRANSLATORS.items():
        register(ModelSpec(name=name, task=task, config_class=ModelConfig, paper="A paper", description="a translator",
                           tiny_config={"image_size": 8, "channels": 2}))


@hookimpl
def ganzoo_build_generator(model, config):
    if model.name == "unpaired-conv":
        return {"g_ab": Translator(config.channels), "g_ba": Translator(config.channels)}
    if model.name == "paired-conv":
        return Translator(config.channels)
    return Generator(config, scale=2.0 if model.name == "wide-range" else 1.0)


@hookimpl
def ganzoo_build_discriminator(model, config):
    if model.name == "unpaired-conv":
        return {"d_a": nn.Conv2d(config.channels, 1, 3), "d_b": nn.Conv2d(config.channels, 1, 3)}
    if model.name == "paired-conv":
        return nn.Conv2d(config.channels, 1, 3)
    return Discriminator(config)


@hookimpl
def ganzoo_sample(model, state, num, inputs, direction):
    if model.name not in TRANSLATORS:
        return None
    net = state.networks["generator" if model.name == "paired-conv" else {"AtoB": "g_ab", "BtoA": "g_ba"}[direction]]
    with torch.no_grad():
        return net(inputs[:num])


@hookimpl
def ganzoo_preview(model, state, batch):
    if model.name != "unpaired-conv":
        return None
    with torch.no_grad():
        there = state.networks["g_ab"](batch["a"])
        return [batch["a"], there, state.networks["g_ba"](there)]


@hookimpl
def ganzoo_extra_state(model, state):
    return {"pool": [torch.zeros(1)]} if model.name == "unpaired-conv" else {}


@hookimpl
def ganzoo_train_step(model, state, batches):
    if model.name in TRANSLATORS:
        return translator_step(model, state, batches)
    if model.name == "lazy-step":
        batches.next()
        return {"loss": 0.0}
    if model.name == "int-metric":
        return {key: 1 for key in train_step(model, state, batches)}
    if model.name == "noisy-step":
        return {**train_step(model, state, batches), "noise": int.from_bytes(os.urandom(4), "little") / 2**32}
    return None
'''

PYRAMID_PLUGIN = '''
import torch
import torch.nn.functional as F
from torch import nn
from ganzoo import ModelConfig, ModelSpec, hookimpl

GANZOO_API = ">=2,<3"


class Coarse(nn.Module):  # z -> a 4 px image: the first generator does NOT make the full image
    def __init__(self, config):
        super().__init__()
        self.channels = config.channels
        self.net = nn.Linear(config.latent_dim, config.channels * 16)

    def forward(self, z):
        return torch.tanh(self.net(z)).view(len(z), self.channels, 4, 4)


@hookimpl
def ganzoo_register_models(register):
    for name in ("pyramid", "pyramid-touches-frozen"):
        register(ModelSpec(name=name, task="unconditional", config_class=ModelConfig, paper="A paper",
                           description="two-level pyramid", tiny_config={"image_size": 8, "latent_dim": 4, "channels": 1},
                           roles={"encoder": "frozen"}, train_settings=("loss",)))


@hookimpl
def ganzoo_build_generator(config):
    return {"g0": Coarse(config), "g1": nn.Conv2d(config.channels, config.channels, 3, padding=1)}


@hookimpl
def ganzoo_build_discriminator(config):
    return {"d0": nn.Sequential(nn.Flatten(), nn.Linear(config.channels * 16, 1)),  # scores 4 px images only
            "d1": nn.Conv2d(config.channels, 1, 3), "encoder": nn.Linear(config.channels * 64, 2)}


def levels(nets, z):
    coarse = nets["g0"](z)
    up = F.interpolate(coarse, scale_factor=2)
    return coarse, torch.tanh(up + nets["g1"](up))


@hookimpl
def ganzoo_train_step(model, state, batches):
    real = batches.next()["image"]
    nets, loss = state.networks, state.loss
    real_coarse = F.avg_pool2d(real, 2)
    coarse, fine = levels(nets, state.draw_latents(len(real))["z"])
    d_loss = (loss.discriminator_loss(nets["d0"](real_coarse), nets["d0"](coarse.detach()))
              + loss.discriminator_loss(nets["d1"](real), nets["d1"](fine.detach())))
    state.optimize(["d0", "d1"], d_loss)
    features = nets["encoder"](fine.flatten(1))  # a frozen helper in the generator's loss
    g_loss = loss.generator_loss(nets["d0"](coarse)) + loss.generator_loss(nets["d1"](fine)) + features.pow(2).mean()
    state.optimize(["g0", "g1"], g_loss)
    if model.name == "pyramid-touches-frozen":
        with torch.no_grad():
            nets["encoder"].weight.add_(0.1)
    return {"loss_d": d_loss.detach(), "loss_g": g_loss.detach()}


@hookimpl
def ganzoo_sample(model, state, num, generator, latents, truncation):
    nets = {name: state.sampling_network(name) for name in ("g0", "g1")}
    modes = {name: net.training for name, net in nets.items()}
    try:
        for net in nets.values():
            net.eval()
        with torch.no_grad():
            z = state.draw_latents(num, generator, given=latents, truncation=truncation)["z"]
            return levels(nets, z)[1].float().clamp(-1, 1)
    finally:
        for name, net in nets.items():
            net.train(modes[name])
'''

CHECKS = [name for name in dir(ConformanceSuite) if name.startswith("test_") and name != "test_plugin_module_imports_without_torch"]


@pytest.fixture
def fake_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    """The process-wide host replaced by one holding only the test models above."""
    return install_fake_plugin(PLUGIN, "kit", tmp_path, monkeypatch)


@pytest.fixture
def pyramid_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    """The process-wide host replaced by one holding only the API-2 pyramid models above."""
    return install_fake_plugin(PYRAMID_PLUGIN, "pyramid", tmp_path, monkeypatch)


def run_check(suite: type[ConformanceSuite], check: str, model: str) -> bool:
    """Run one check; False when it skips itself (not applicable to the model's task)."""
    try:
        getattr(suite(), check)(model)
    except pytest.skip.Exception:
        return False
    return True


@pytest.mark.parametrize(
    ("model", "not_applicable"),
    [
        ("good-mlp", set()),
        ("cond-mlp", set()),
        ("paired-conv", {"test_discriminator_scores", "test_generator_output_shape_dtype_range"}),
        ("unpaired-conv", {"test_discriminator_scores", "test_generator_output_shape_dtype_range"}),
    ],
)
def test_a_correct_model_passes_every_check(fake_host: PluginHost, model: str, not_applicable: set[str]) -> None:
    suite = conformance_tests(model)
    ran = [check for check in CHECKS if run_check(suite, check, model)]
    assert set(CHECKS) - set(ran) == not_applicable


@pytest.mark.parametrize(
    ("model", "check", "message"),
    [
        ("wide-range", "test_generator_output_shape_dtype_range", "must lie in"),
        ("no-paper", "test_metadata_is_complete", "ModelSpec.paper is empty"),
        ("lazy-step", "test_train_step_updates_networks", "left these optimised networks unchanged"),
        ("int-metric", "test_train_step_updates_networks", "is not a finite float"),
        ("noisy-step", "test_seeded_training_is_deterministic", "same seed, different metrics"),
    ],
)
def test_broken_models_are_caught(fake_host: PluginHost, model: str, check: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        run_check(conformance_tests(model), check, model)


def test_suite_parametrises_over_a_plugins_models(fake_host: PluginHost) -> None:
    suite = conformance_tests(plugin="ganzoo-plugin-kit")
    assert sorted(suite.models) == fake_host.list_models()
    assert suite.__name__ == "TestConformance" and suite.__module__ == __name__

    class TestSubclass(ConformanceSuite):
        models = ["good-mlp"]
        frozen_networks = {"discriminator"}

    assert TestSubclass.conformance_model is not ConformanceSuite.__dict__.get("conformance_model")
    with pytest.raises(ValueError, match="needs model names"):
        conformance_tests()
    with pytest.raises(LookupError, match="no installed ganzoo plugin is called 'nope'"):
        conformance_tests(plugin="nope")


def test_frozen_networks_are_allowed_to_stay_unchanged(fake_host: PluginHost) -> None:
    class Lazy(ConformanceSuite):
        models = ["lazy-step"]
        frozen_networks = {"generator", "discriminator"}

    Lazy().test_train_step_updates_networks("lazy-step")


def test_a_pyramid_with_a_frozen_helper_passes_by_role(pyramid_host: PluginHost) -> None:
    """Generators that each make one level, discriminators of other sizes and a frozen network: no special case
    (the checks go through ganzoo_sample, the train step and the roles, not through network names or shapes)."""
    suite = conformance_tests("pyramid")
    ran = [check for check in CHECKS if run_check(suite, check, "pyramid")]
    assert set(CHECKS) - set(ran) == {"test_discriminator_scores", "test_generator_output_shape_dtype_range"}


def test_a_step_that_changes_a_frozen_network_is_caught(pyramid_host: PluginHost) -> None:
    with pytest.raises(AssertionError, match=r"changed these frozen networks: \['encoder'\]"):
        run_check(conformance_tests("pyramid-touches-frozen"), "test_train_step_updates_networks", "pyramid-touches-frozen")
