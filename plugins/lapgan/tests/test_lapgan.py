"""LAPGAN-specific checks: the pyramid levels, shared operators, per-level losses and the paper's optimizer."""

import pytest
import torch

from ganzoo import ConfigError, get_model, resolve_config
from ganzoo.nn.pyramid import laplacian_pyramid
from ganzoo.plugins import get_host
from ganzoo.sampling import sample_images
from ganzoo.testing import build_tiny_state, synthetic_batches
from ganzoo_lapgan.training import rising_momentum


def test_levels_come_from_the_config() -> None:
    config = resolve_config(get_model("lapgan"), overrides=["model.channels=1"])
    generator = get_host().call("ganzoo_build_generator", "lapgan", config=config.model)
    assert generator.sizes == [8, 16, 32] and len(generator.levels) == 2
    with pytest.raises(ConfigError, match="model"):
        resolve_config(get_model("lapgan"), overrides=["model.levels=5"])  # 32 px / 16 = 2 px base


def test_sampling_with_the_real_bands_rebuilds_the_real_image() -> None:
    # the sampler must upsample exactly as the pyramid used in training does
    state = build_tiny_state("lapgan")
    net = state.networks["generator"]
    image = torch.rand(2, 3, 16, 16) * 1.6 - 0.8
    base, band = laplacian_pyramid(image, 2)
    net.base.forward = lambda z, labels=None: base
    net.levels[0].forward = lambda noise, coarse, labels=None: band
    torch.testing.assert_close(net(torch.zeros(2, 8)), image, rtol=0, atol=1e-6)


def test_train_step_logs_every_level_and_uses_sgd() -> None:
    state = build_tiny_state("lapgan")
    assert all(isinstance(opt, torch.optim.SGD) for opt in state.optimizers.values())
    metrics = get_host().call("ganzoo_train_step", "lapgan", state=state, batches=synthetic_batches(state))
    assert {"loss_d_8px", "loss_g_8px", "loss_d_16px", "loss_g_16px"} <= set(metrics)
    assert float(metrics["loss_d"]) == pytest.approx(float(metrics["loss_d_8px"] + metrics["loss_d_16px"]), rel=1e-5)
    assert state.optimizers["generator"].param_groups[0]["momentum"] == 0.5


def test_paper_sgd_comes_from_the_core_settings() -> None:
    state = build_tiny_state("lapgan")
    train = state.config.train
    assert (train.optimizer, train.lr_g, train.lr_d, train.momentum, train.lr_schedule) == ("sgd", 0.02, 0.02, 0.5, "step")
    state.schedules.at(1000)  # the core's schedule divides the lr by 1 + 4e-5 per update
    assert state.optimizers["discriminator"].param_groups[0]["lr"] == pytest.approx(0.02 / (1 + 4e-5) ** 1000)


def test_momentum_rises_with_the_epoch_up_to_its_maximum() -> None:
    state = build_tiny_state("lapgan", optim={"discriminator": {"momentum": 0.6}})
    rising_momentum(state, 100)
    assert state.optimizers["generator"].param_groups[0]["momentum"] == pytest.approx(0.5 + 100 * 0.0008)
    assert state.optimizers["discriminator"].param_groups[0]["momentum"] == pytest.approx(0.6 + 100 * 0.0008)
    rising_momentum(state, 10_000)
    assert state.optimizers["generator"].param_groups[0]["momentum"] == pytest.approx(0.8)


def test_every_level_noise_is_a_declared_latent() -> None:
    state = build_tiny_state("lapgan")
    assert {name: prior.describe() for name, prior in state.latents.items()} == {
        "z": "uniform(8, -1, 1)", "noise_16": "uniform(256, -1, 1)"}
    fixed = state.draw_latents(3, torch.Generator().manual_seed(5))
    first, second = (sample_images(state, 3, latents=fixed, generator=torch.Generator().manual_seed(seed))
                     for seed in (0, 1))
    assert torch.equal(first, second)  # every random input was given
    with torch.no_grad():
        torch.testing.assert_close(state.generate(fixed).clamp(-1, 1), first)  # G(**latents), the core's convention


def test_preview_shows_every_level_at_full_size() -> None:
    state = build_tiny_state("lapgan-cc")
    columns = get_host().call("ganzoo_preview", "lapgan-cc", state=state, batch={})
    assert len(columns) == 2 and all(column.shape == (8, 3, 16, 16) for column in columns)
    coarse = columns[0]
    assert torch.equal(coarse[..., ::2, ::2], coarse[..., 1::2, 1::2])  # the 8 px level shown as 2x2 blocks


def test_truncation_is_refused() -> None:
    state = build_tiny_state("lapgan")
    with pytest.raises(Exception, match="truncation"):
        get_host().call("ganzoo_sample", "lapgan", state=state, num=1, truncation=0.5)


def test_training_on_digits_moves_samples_toward_held_out_digits(tmp_path) -> None:
    """Learning evidence: 200 steps of the pyramid (2 levels, 16 px) on the embedded digits, the core's trainer."""
    from ganzoo.checkpoint import load_run
    from ganzoo.data.digits import DigitsDataset
    from ganzoo.state import build_state
    from ganzoo.testing import pixel_frechet_distance, sample_images
    from ganzoo.trainer import Trainer

    spec = get_model("lapgan")
    model = {**spec.tiny_config, "channels": 1, "latent_dim": 32, "base_hidden_g": 128, "base_hidden_d": 128,
             "hidden_g": 16, "hidden_d": 16}
    train = {"steps": 200, "batch_size": 32, "lr_g": 0.05, "lr_d": 0.05, "device": "cpu", "progress": False,
             "sample_every": 10**6, "checkpoint_every": 10**6, "log_every": 50, "seed": 0}
    config = resolve_config(spec, values={"model": model, "train": train, "data": {"dataset": "digits"}})
    held_out = DigitsDataset("test", 16, 1).tensors["image"]
    torch.manual_seed(0)
    before = pixel_frechet_distance(sample_images(build_state(spec, config, device="cpu"), 512, seed=1), held_out)
    Trainer(config, tmp_path).train()
    after = pixel_frechet_distance(sample_images(load_run(tmp_path).state, 512, seed=1), held_out)
    print(f"lapgan: pixel Fréchet distance untrained {before:.2f} -> trained {after:.2f}")
    assert after < 0.6 * before, f"lapgan did not learn: {before:.2f} -> {after:.2f}"
