"""SAGAN-specific checks: the architecture and training settings of Zhang et al. 2018."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ganzoo import ConfigError, get_model, resolve_config
from ganzoo.losses import HingeLoss
from ganzoo.nn.attention import SelfAttention
from ganzoo.nn.conditional_norm import ClassConditionalBatchNorm2d, PlainBatchNorm2d
from ganzoo.nn.spectral import spectral_norm_layers
from ganzoo.plugins import get_host
from ganzoo.testing import build_tiny_state, synthetic_batches

SMALL = ["model.ngf=4", "model.ndf=4"]


def _networks(model: str, *overrides: str) -> tuple[nn.Module, nn.Module]:
    spec = get_model(model)
    config = resolve_config(spec, overrides=[*SMALL, *overrides]).model
    host = get_host()
    return (host.call("ganzoo_build_generator", spec, config=config),
            host.call("ganzoo_build_discriminator", spec, config=config))


def test_every_weight_layer_is_spectrally_normalised() -> None:
    for network in _networks("sagan"):
        normalised = {id(layer) for layer, _ in spectral_norm_layers(network)}
        layers = [m for m in network.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
        assert layers and all(id(layer) in normalised for layer in layers)


def test_attention_sits_at_32x32_features_and_d_projects_the_class() -> None:
    generator, discriminator = _networks("sagan")
    assert isinstance(generator.attention, SelfAttention) and isinstance(discriminator.attention, SelfAttention)
    features: dict[str, tuple[int, ...]] = {}
    generator.attention.register_forward_hook(lambda m, i, o: features.update(g=tuple(o.shape[-2:])))
    discriminator.attention.register_forward_hook(lambda m, i, o: features.update(d=tuple(o.shape[-2:])))
    labels = torch.tensor([0, 7])
    with torch.no_grad():
        discriminator(generator(torch.randn(2, 128), labels), labels)
    assert features == {"g": (32, 32), "d": (16, 16)}  # a 32 px D has no 32x32 maps after its first block
    assert discriminator.head.embed is not None
    assert any(isinstance(m, ClassConditionalBatchNorm2d) for m in generator.modules())


def test_64px_discriminator_attends_at_32x32() -> None:
    generator, discriminator = _networks("sagan", "model.image_size=64", "model.ndf=8")
    images = generator(torch.randn(2, 128), torch.tensor([1, 2]))
    assert images.shape == (2, 3, 64, 64)
    assert discriminator.attention_after == 0  # the first block's 32x32 output
    assert discriminator(images, torch.tensor([1, 2])).shape == (2,)


def test_unconditional_option_has_plain_batchnorm_and_no_projection() -> None:
    generator, discriminator = _networks("sagan-uncond")
    assert discriminator.head.embed is None
    assert not any(isinstance(m, ClassConditionalBatchNorm2d) for m in generator.modules())
    assert any(isinstance(m, PlainBatchNorm2d) for m in generator.modules())
    assert generator(torch.randn(2, 128)).shape == (2, 3, 32, 32)


def test_paper_training_settings() -> None:
    train = resolve_config(get_model("sagan")).train
    assert (train.loss, train.lr_d, train.lr_g, train.beta1, train.beta2, train.n_critic) == (
        "hinge", 4e-4, 1e-4, 0.0, 0.9, 1)
    state = build_tiny_state("sagan")
    assert isinstance(state.loss, HingeLoss)
    assert state.optimizers["discriminator"].param_groups[0]["lr"] == 4e-4
    assert state.optimizers["generator"].param_groups[0]["betas"] == (0.0, 0.9)


def test_a_train_step_keeps_u_fixed_when_sampling() -> None:
    state = build_tiny_state("sagan")
    get_host().call("ganzoo_train_step", "sagan", state=state, batches=synthetic_batches(state))
    buffers = {name: value.clone() for name, value in state.networks["generator"].state_dict().items()
               if name.endswith("_u")}
    get_host().call("ganzoo_sample", "sagan", state=state, num=4)
    after = state.networks["generator"].state_dict()
    assert buffers and all(torch.equal(after[name], value) for name, value in buffers.items())


@pytest.mark.parametrize("override", ["model.image_size=48", "model.ngf=1"])
def test_bad_architectures_are_config_errors(override: str) -> None:
    spec = get_model("sagan")
    with pytest.raises(ConfigError, match="model"):
        config = resolve_config(spec, overrides=[override]).model
        get_host().call("ganzoo_build_generator", spec, config=config)
