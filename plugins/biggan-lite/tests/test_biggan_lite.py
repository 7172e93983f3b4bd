"""BigGAN-lite checks: the paper's architecture features and the authors' CIFAR-script training settings."""

from __future__ import annotations

import pytest
import torch

from ganzoo import ConfigError, get_model, resolve_config
from ganzoo.nn.conditional_norm import ClassConditionalBatchNorm2d, SharedConditionalBatchNorm2d
from ganzoo.nn.spectral import largest_singular_value, spectral_norm_layers
from ganzoo.plugins import get_host
from ganzoo.state import GANState, build_state, seed_everything
from ganzoo.testing import build_tiny_state, synthetic_batches


def _tiny_state(**model: object) -> GANState:
    """The tiny config with some model settings changed."""
    spec = get_model("biggan-lite")
    config = resolve_config(spec, values={"model": {**spec.tiny_config, **model},
                                          "train": {"batch_size": 4, "device": "cpu", "progress": False}})
    seed_everything(0)
    return build_state(spec, config, device="cpu")


def test_training_settings_follow_the_cifar_script() -> None:
    train = resolve_config(get_model("biggan-lite")).train
    assert (train.loss, train.batch_size, train.lr_g, train.lr_d, train.beta1, train.beta2, train.n_critic) == (
        "hinge", 50, 2e-4, 2e-4, 0.0, 0.999, 4)
    assert (train.ema_decay, train.ema_start) == (0.9999, 1000)


def test_paper_features_are_on_by_default() -> None:
    model = resolve_config(get_model("biggan-lite")).model
    assert (model.shared_embedding, model.hierarchical, model.orthogonal_reg, model.attention, model.init) == (
        True, True, 1e-4, None, "normal")
    state = build_tiny_state("biggan-lite")
    generator, discriminator = state.networks["generator"], state.networks["discriminator"]
    assert generator.shared is not None and generator.hierarchical
    assert any(isinstance(m, SharedConditionalBatchNorm2d) for m in generator.modules())
    assert discriminator.head.embed is not None  # projection


def test_script_architecture_is_one_setting_away() -> None:
    state = _tiny_state(shared_embedding=False, hierarchical=False, orthogonal_reg=0.0)
    generator = state.networks["generator"]
    assert generator.shared is None
    assert any(isinstance(m, ClassConditionalBatchNorm2d) for m in generator.modules())
    metrics = get_host().call("ganzoo_train_step", "biggan-lite", state=state, batches=synthetic_batches(state))
    assert "loss_g_orthogonal" not in metrics


def test_hierarchical_latent_needs_the_shared_embedding() -> None:
    with pytest.raises(ConfigError, match="shared_embedding"):
        resolve_config(get_model("biggan-lite"), overrides=["model.shared_embedding=false"])


def test_orthogonal_regularisation_joins_the_generator_step() -> None:
    state = build_tiny_state("biggan-lite")
    metrics = get_host().call("ganzoo_train_step", "biggan-lite", state=state, batches=synthetic_batches(state))
    assert float(metrics["loss_g_orthogonal"]) > 0
    assert "loss_d_orthogonal" not in metrics


def test_weights_start_from_n_0_002() -> None:
    generator = _tiny_state(ngf=16).networks["generator"]
    raw = generator.blocks[0].conv1.parametrizations.weight.original
    assert raw.std().item() == pytest.approx(0.02, rel=0.15)


def test_ema_generator_keeps_valid_spectral_norms() -> None:
    state = build_tiny_state("biggan-lite", ema_decay=0.5, ema_start=0, lr_g=0.05)
    batches = synthetic_batches(state)
    for _ in range(3):
        get_host().call("ganzoo_train_step", "biggan-lite", state=state, batches=batches)
        state.step += 1
        state.update_ema()
    averaged = state.ema["generator"].module.eval()
    layers = list(spectral_norm_layers(averaged))
    assert layers
    for layer, norm in layers:
        assert norm._u.norm().item() == pytest.approx(1.0, abs=1e-5)  # averaged u, v are put back on the sphere
        assert largest_singular_value(layer) < 1.5


def test_truncation_resamples_latents_for_the_ema_generator() -> None:
    state = build_tiny_state("biggan-lite")
    labels = torch.arange(4) % 3
    host = get_host()

    def draw(truncation: float | None) -> torch.Tensor:
        return host.call("ganzoo_sample", "biggan-lite", state=state, num=4, labels=labels, truncation=truncation,
                         generator=torch.Generator().manual_seed(1))

    assert torch.equal(draw(0.5), draw(0.5))
    assert not torch.equal(draw(0.5), draw(None))
    latents = state.draw_latents(200, torch.Generator().manual_seed(0), truncation=0.5)["z"]
    assert latents.abs().max() <= 0.5 and latents.std() > 0.2  # resampled inside the threshold, not scaled
