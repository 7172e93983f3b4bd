"""Plugin API 2: strict dispatch, latents, roles, step pieces, optimizer/schedule settings, previews, samplers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganzoo.config import ConfigError, resolve_config
from ganzoo.plugins import PluginError, PluginHost
from ganzoo.testing import build_tiny_state, install_fake_plugin, synthetic_batches

PLUGIN = '''
import torch
from torch import nn
from pydantic import BaseModel, Field
from ganzoo import ModelConfig, ModelSpec, hookimpl
from ganzoo.latents import Categorical, Normal, Uniform
from ganzoo.steps import default_train_step

GANZOO_API = ">=2,<3"
CALLS = {"generator": 0}


class Chains(BaseModel):
    steps: int = Field(3, ge=1)


class Generator(nn.Module):
    def __init__(self, config, coded):
        super().__init__()
        self.coded = coded
        extra = 3 + 1 if coded else 0
        self.net = nn.Linear(config.latent_dim + extra, config.channels * config.image_size ** 2)
        self.shape = (config.channels, config.image_size, config.image_size)

    def forward(self, z, code=None, c1=None, y=None):
        CALLS["generator"] += 1
        if self.coded:
            z = torch.cat([z, nn.functional.one_hot(code, 3).float(), c1], dim=1)
        return torch.tanh(self.net(z)).view(len(z), *self.shape)


class Discriminator(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.net = nn.Linear(config.channels * config.image_size ** 2, 1)

    def forward(self, images, labels=None):
        return self.net(images.flatten(1)).flatten()


@hookimpl
def ganzoo_register_models(register):
    tiny = {"image_size": 4, "channels": 1, "latent_dim": 3}
    every = ("loss", "gp_weight", "n_critic", "reuse_fakes")  # their step is the default one
    register(ModelSpec(name="plain", task="unconditional", config_class=ModelConfig, paper="p", description="d",
                       tiny_config=tiny, train_settings=every))
    register(ModelSpec(name="coded", task="unconditional", config_class=ModelConfig, paper="p", description="d",
                       tiny_config=tiny, sample_config=Chains, train_settings=every))
    register(ModelSpec(name="roles", task="unconditional", config_class=ModelConfig, paper="p", description="d",
                       tiny_config=tiny, roles={"encoder": "frozen", "dae": "auxiliary"}, train_settings=every))
    register(ModelSpec(name="forgetful", task="unconditional", config_class=ModelConfig, paper="p", description="d",
                       tiny_config=tiny, train_settings=("loss",)))
    register(ModelSpec(name="regularised", task="unconditional", config_class=ModelConfig, paper="p",
                       description="d", tiny_config=tiny, train_settings=every))


@hookimpl
def ganzoo_latents(model, config):
    if model.name == "coded":
        return {"z": Normal(config.latent_dim), "code": Categorical(3), "c1": Uniform(1, -1.0, 1.0)}
    return {"z": Normal(config.latent_dim)}


@hookimpl
def ganzoo_build_generator(model, config):
    return Generator(config, coded=model.name == "coded")


@hookimpl
def ganzoo_build_discriminator(model, config):
    if model.name == "roles":
        return {"discriminator": Discriminator(config), "encoder": nn.Linear(4, 2), "dae": nn.Linear(2, 2)}
    return Discriminator(config)


@hookimpl
def ganzoo_train_step(model, state, batches):
    if model.name == "forgetful":
        batches.next()  # forgets to return its metrics
        return None
    if model.name == "roles":
        metrics = default_train_step(model, state, batches)
        dae = state.networks["dae"](torch.randn(2, 2)).pow(2).mean()
        state.optimize("dae", dae)
        return metrics
    return default_train_step(model, state, batches)


@hookimpl
def ganzoo_extra_loss(model, state, role, context):
    if model.name == "regularised" and role == "generator":
        return {"l2": 0.5 * context.fake.pow(2).mean()}
    return {}


@hookimpl
def ganzoo_sample(model, state, num, generator, latents, truncation):
    with torch.no_grad():
        values = state.draw_latents(num, generator, given=latents, truncation=truncation)
        return state.generate(values, network="generator").clamp(-1, 1)
'''


@pytest.fixture
def v2_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    return install_fake_plugin(PLUGIN, "v2", tmp_path, monkeypatch)


def one_step(state, seed: int = 0):
    return state.host.call("ganzoo_train_step", state.spec, state=state, batches=synthetic_batches(state, seed=seed))


# -- point 1: strict dispatch --------------------------------------------------------------------------
def test_none_from_an_implemented_hook_is_an_error_naming_plugin_and_hook(v2_host: PluginHost) -> None:
    state = build_tiny_state("forgetful")
    with pytest.raises(PluginError, match=r"ganzoo_train_step of plugin 'ganzoo-plugin-v2' \(model 'forgetful'\) returned None"):
        one_step(state)


def test_an_argument_the_implementation_does_not_accept_is_an_error(v2_host: PluginHost) -> None:
    state = build_tiny_state("plain")
    with pytest.raises(PluginError, match="does not accept 'labels'"):
        v2_host.call("ganzoo_sample", "plain", state=state, num=2, labels=torch.zeros(2, dtype=torch.long))
    assert v2_host.call("ganzoo_sample", "plain", state=state, num=2).shape == (2, 1, 4, 4)  # left out: fine


def test_step_settings_the_own_step_ignores_are_config_errors(v2_host: PluginHost) -> None:
    spec = v2_host.get_model("forgetful")
    assert spec.honoured_step_settings == ("loss",)
    with pytest.raises(ConfigError, match=r"train.n_critic = 5: model 'forgetful' trains with its own step.*from --set"):
        resolve_config(spec, overrides=["train.n_critic=5"])
    resolve_config(spec, overrides=["train.loss=hinge", "train.n_critic=1"])  # honoured / unchanged: accepted
    assert v2_host.get_model("plain").honoured_step_settings == ("loss", "gp_weight", "n_critic", "reuse_fakes")


# -- point 2: latents ------------------------------------------------------------------------------------
def test_default_step_and_sampler_draw_every_declared_latent(v2_host: PluginHost) -> None:
    state = build_tiny_state("coded")
    assert set(state.latents) == {"z", "code", "c1"}
    metrics = one_step(state)
    assert metrics["loss_g"].dim() == 0 and not metrics["loss_g"].requires_grad
    drawn = state.draw_latents(5, torch.Generator().manual_seed(3))
    assert drawn["code"].dtype == torch.long and drawn["code"].shape == (5,) and drawn["c1"].abs().max() <= 1


def test_chosen_latents_reach_the_sampler_and_seeded_draws_repeat(v2_host: PluginHost) -> None:
    from ganzoo.sampling import sample_images

    state = build_tiny_state("coded")
    fixed = {"code": torch.full((4,), 2)}
    first = sample_images(state, 4, generator=torch.Generator().manual_seed(1), latents=fixed)
    again = sample_images(state, 4, generator=torch.Generator().manual_seed(1), latents=fixed)
    other = sample_images(state, 4, generator=torch.Generator().manual_seed(1), latents={"code": torch.zeros(4, dtype=torch.long)})
    assert torch.equal(first, again) and not torch.equal(first, other)


def test_latent_values_of_the_wrong_shape_or_name_are_refused(v2_host: PluginHost) -> None:
    from ganzoo.latents import LatentError

    state = build_tiny_state("coded")
    with pytest.raises(LatentError, match="categorical\\(3\\): values must be in 0..2"):
        state.draw_latents(2, given={"code": torch.tensor([0, 3])})
    with pytest.raises(LatentError, match="has no latent 'c9'"):
        state.draw_latents(2, given={"c9": torch.zeros(2, 1)})


def test_seeded_latents_are_drawn_on_the_cpu() -> None:
    from ganzoo.latents import Normal, seeded_latents

    a = seeded_latents({"z": Normal(3)}, 2, seed=7)
    b = seeded_latents({"z": Normal(3)}, 2, seed=7, device="meta")
    assert b["z"].device.type == "meta" and torch.equal(a["z"], torch.randn(2, 3, generator=torch.Generator().manual_seed(7)))


# -- point 3: roles --------------------------------------------------------------------------------------
def test_frozen_networks_get_no_optimizer_no_ema_no_training_and_auxiliary_ones_train(v2_host: PluginHost) -> None:
    from ganzoo.testing.helpers import changed_networks, parameters_snapshot

    state = build_tiny_state("roles", ema_decay=0.9)
    assert state.roles == {"generator": "generator", "discriminator": "discriminator", "encoder": "frozen",
                           "dae": "auxiliary"}
    assert set(state.optimizers) == {"generator", "discriminator", "dae"} and set(state.ema) == {"generator"}
    assert state.optimizers["dae"].param_groups[0]["lr"] == state.config.train.lr_d
    state.train()
    assert not state.networks["encoder"].training and state.networks["dae"].training
    before = parameters_snapshot(state)
    one_step(state)
    assert changed_networks(before, parameters_snapshot(state)) == {"generator", "discriminator", "dae"}


def test_roles_naming_an_unbuilt_network_are_refused(v2_host: PluginHost) -> None:
    spec = v2_host.get_model("plain")
    spec.roles = {"ghost": "frozen"}
    with pytest.raises(TypeError, match="ModelSpec.roles names network\\(s\\) ghost"):
        build_tiny_state("plain")


# -- point 4: step pieces and state.optimize ----------------------------------------------------------
def test_extra_loss_hook_adds_a_logged_term(v2_host: PluginHost) -> None:
    metrics = one_step(build_tiny_state("regularised"))
    assert "loss_g_l2" in metrics and metrics["loss_g_l2"] > 0


@pytest.mark.parametrize(("reuse", "forwards"), [(True, 1), (False, 2)])
def test_generator_step_reuses_the_discriminator_steps_fakes(v2_host: PluginHost, reuse: bool, forwards: int) -> None:
    import sys

    state = build_tiny_state("plain", reuse_fakes=reuse)
    calls = sys.modules[type(state.networks["generator"]).__module__].CALLS
    calls["generator"] = 0
    one_step(state)
    assert calls["generator"] == forwards


def test_optimize_steps_several_networks_from_one_backward_with_clipping(v2_host: PluginHost) -> None:
    state = build_tiny_state("plain")
    seen = {}

    def check(current):
        seen["norm"] = torch.cat([p.grad.flatten() for p in current.networks["generator"].parameters()]).norm()

    images = state.generate(state.draw_latents(4))
    loss = 1e3 * state.networks["discriminator"](images).mean()
    before = {name: [p.clone() for p in net.parameters()] for name, net in state.networks.items()}
    state.optimize(["generator", "discriminator"], loss, before_step=check, clip_grad_norm=0.1)
    assert seen["norm"] <= 0.1 + 1e-6
    for name, net in state.networks.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[name], net.parameters())), name
    with pytest.raises(KeyError, match="no optimizer named 'critic'"):
        state.optimize("critic", loss)


# -- point 5: optimizers and schedules ------------------------------------------------------------------
def test_optimizer_settings_per_network_and_role(v2_host: PluginHost) -> None:
    state = build_tiny_state("roles", optimizer="sgd", momentum=0.9,
                             optim={"discriminator": {"optimizer": "rmsprop", "lr": 0.01}, "dae": {"lr": 0.5}})
    assert isinstance(state.optimizers["generator"], torch.optim.SGD)
    assert state.optimizers["generator"].param_groups[0]["momentum"] == 0.9
    assert isinstance(state.optimizers["discriminator"], torch.optim.RMSprop)
    assert state.optimizers["discriminator"].param_groups[0]["lr"] == 0.01
    assert state.optimizers["dae"].param_groups[0]["lr"] == 0.5  # the role "auxiliary" otherwise uses lr_d


def test_lr_schedule_factors() -> None:
    from ganzoo.optim import lr_factor

    linear = {"lr_schedule": "linear", "lr_decay_start": None, "lr_step_size": 1, "lr_gamma": 1.0}
    assert [lr_factor(s, 10, linear) for s in (0, 4, 5, 6, 9)] == pytest.approx([1, 1, 1, 0.8, 0.2])
    cosine = {**linear, "lr_schedule": "cosine"}
    assert [lr_factor(s, 10, cosine) for s in (0, 5, 10)] == pytest.approx([1, 0.5, 0])
    step = {**linear, "lr_schedule": "step", "lr_step_size": 3, "lr_gamma": 0.5}
    assert [lr_factor(s, 10, step) for s in (0, 2, 3, 6)] == pytest.approx([1, 1, 0.5, 0.25])


# -- point 7: sample settings ----------------------------------------------------------------------------
def test_model_sample_settings_are_a_config_section(v2_host: PluginHost) -> None:
    spec = v2_host.get_model("coded")
    assert resolve_config(spec).sample.steps == 3
    assert resolve_config(spec, overrides=["sample.steps=9"]).sample.steps == 9
    with pytest.raises(ConfigError, match="sample.stpes"):
        resolve_config(spec, overrides=["sample.stpes=9"])
