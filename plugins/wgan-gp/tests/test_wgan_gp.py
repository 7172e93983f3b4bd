"""WGAN-GP-specific checks: Algorithm 1 of Gulrajani et al. 2017."""

import pytest
import torch
from torch import nn

from ganzoo import get_model, resolve_config
from ganzoo.losses import WassersteinLoss
from ganzoo.plugins import get_host
from ganzoo.testing import build_tiny_state, synthetic_batches

_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.SyncBatchNorm)


@pytest.mark.parametrize("critic_norm", ["none", "layer"])
def test_critic_has_no_batchnorm(critic_norm: str) -> None:
    spec = get_model("wgan-gp")
    config = resolve_config(spec, overrides=[f"model.critic_norm={critic_norm!r}"]).model
    critic = get_host().call("ganzoo_build_discriminator", spec, config=config)
    assert not [m for m in critic.modules() if isinstance(m, _NORMS)]
    with torch.no_grad():
        assert critic(torch.randn(3, 3, 32, 32)).shape == (3,)  # one linear (unbounded) score per image


def test_critic_norm_refuses_batchnorm() -> None:
    from ganzoo import ConfigError

    with pytest.raises(ConfigError, match="critic_norm"):
        resolve_config(get_model("wgan-gp"), overrides=["model.critic_norm='batch'"])


def test_algorithm_1_defaults() -> None:
    state = build_tiny_state("wgan-gp")
    assert state.gp_weight == 10.0
    assert state.config.train.n_critic == 5
    assert isinstance(state.loss, WassersteinLoss)
    for optimizer in state.optimizers.values():
        assert isinstance(optimizer, torch.optim.Adam)
        group = optimizer.param_groups[0]
        assert group["lr"] == 1e-4 and group["betas"] == (0.0, 0.9)


def test_train_step_runs_five_critic_steps_with_penalty() -> None:
    state = build_tiny_state("wgan-gp")
    batches = synthetic_batches(state)
    metrics = get_host().call("ganzoo_train_step", "wgan-gp", state=state, batches=batches)
    assert batches.consumed == 5  # each critic step draws a fresh batch
    assert metrics["gradient_penalty"] >= 0 and "loss_g" in metrics


def test_wgan_gp_loss_is_registered_for_other_models() -> None:
    loss = get_host().get_loss("wgan-gp")
    assert loss.gradient_penalty == 10.0 and loss.plugin == "ganzoo-plugin-wgan-gp"
