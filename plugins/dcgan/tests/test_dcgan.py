"""DCGAN-specific checks: the architecture and defaults of Radford et al. 2015."""

import pytest
import torch
from torch import nn

from ganzoo import ConfigError, get_model, resolve_config
from ganzoo.losses import HingeLoss
from ganzoo.plugins import get_host
from ganzoo.testing import build_tiny_state, synthetic_batches


def _paper_network(hook: str) -> nn.Module:
    spec = get_model("dcgan")
    return get_host().call(hook, spec, config=resolve_config(spec).model)


def test_discriminator_has_batchnorm_after_every_conv_but_the_first() -> None:
    layers = list(_paper_network("ganzoo_build_discriminator").modules())
    convs = [i for i, layer in enumerate(layers) if isinstance(layer, nn.Conv2d)]
    followed_by_bn = [isinstance(layers[i + 1], nn.BatchNorm2d) for i in convs[:-1]]
    assert len(convs) == 5  # 64 px: four stride-2 convs and the final 4x4 conv
    assert followed_by_bn == [False, True, True, True]
    assert all(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.2 for m in layers if isinstance(m, nn.LeakyReLU))


def test_networks_have_no_biases_and_paper_init() -> None:
    for hook in ("ganzoo_build_generator", "ganzoo_build_discriminator"):
        net = _paper_network(hook)
        convs = [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        assert all(conv.bias is None for conv in convs), f"{hook}: DCGAN convolutions have no bias"
        weights = torch.cat([conv.weight.flatten() for conv in convs])
        assert abs(weights.mean().item()) < 2e-3 and abs(weights.std().item() - 0.02) < 2e-3


def test_generator_makes_64px_images_through_tanh() -> None:
    generator = _paper_network("ganzoo_build_generator")
    assert isinstance(list(generator.modules())[-1], nn.Tanh)
    with torch.no_grad():
        assert generator(torch.randn(2, 100)).shape == (2, 3, 64, 64)


def test_paper_optimiser_defaults() -> None:
    train = resolve_config(get_model("dcgan")).train
    assert (train.loss, train.lr_g, train.lr_d, train.beta1, train.beta2, train.n_critic) == (
        "non-saturating", 2e-4, 2e-4, 0.5, 0.999, 1
    )


def test_hinge_loss_can_replace_the_default() -> None:
    state = build_tiny_state("dcgan", loss="hinge")
    assert isinstance(state.loss, HingeLoss)
    metrics = get_host().call("ganzoo_train_step", "dcgan", state=state, batches=synthetic_batches(state))
    assert all(torch.isfinite(torch.as_tensor(value)).all() for value in metrics.values())


_WGAN_GP_LOSS = pytest.param(
    {"loss": "wgan-gp"},
    marks=pytest.mark.skipif("wgan-gp" not in get_host().list_losses(), reason="ganzoo-plugin-wgan-gp not installed"),
)


@pytest.mark.parametrize("train", [_WGAN_GP_LOSS, {"loss": "wasserstein", "gp_weight": 10.0}])
def test_gradient_penalty_with_batchnorm_discriminator_is_refused(train: dict) -> None:
    with pytest.raises(ConfigError, match="BatchNorm"):
        build_tiny_state("dcgan", **train)


def test_image_size_must_be_a_power_of_two() -> None:
    with pytest.raises(ConfigError, match="model.image_size"):
        resolve_config(get_model("dcgan"), overrides=["model.image_size=48"])
