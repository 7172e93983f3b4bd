"""CycleGAN-specific checks: the reference architecture and losses, the image pool in checkpoints, the lr
schedule, both translation directions, and learning on the unpaired shapes."""

from __future__ import annotations

import io
from typing import Iterator

import pytest
import torch
from torch import nn

from ganzoo import get_model, resolve_config
from ganzoo.data.shapes import ShapesDataset
from ganzoo.losses import LeastSquaresLoss
from ganzoo.plugins import get_host
from ganzoo.state import IteratorBatchSource, build_state
from ganzoo.testing import build_tiny_state, synthetic_batches

SMALL = {"image_size": 32, "ngf": 8, "ndf": 8, "d_layers": 2, "n_blocks": 1, "pool_size": 10}


def _state(model: dict, **train: object) -> object:
    spec = get_model("cyclegan")
    config = resolve_config(spec, values={"model": model, "train": {"device": "cpu", **train}})
    return build_state(spec, config, device="cpu")


def _step(state: object, batches: object) -> dict[str, float]:
    return dict(get_host().call("ganzoo_train_step", "cyclegan", state=state, batches=batches))


def _translate(state: object, inputs: torch.Tensor, direction: str) -> torch.Tensor:
    return get_host().call("ganzoo_sample", "cyclegan", state=state, num=len(inputs), inputs=inputs, direction=direction)


def _residual_blocks(net: nn.Module) -> int:
    return sum(type(m).__name__ == "ResidualBlock" for m in net.modules())


def test_reference_architecture_and_defaults() -> None:
    state = _state({})
    assert sorted(state.networks) == ["d_a", "d_b", "g_ab", "g_ba"]
    assert _residual_blocks(state.networks["g_ab"]) == 9
    assert _residual_blocks(_state({"image_size": 128, "ngf": 4, "ndf": 4}).networks["g_ba"]) == 6
    norms = [m for net in state.networks.values() for m in net.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and not any(m.track_running_stats or m.affine for m in norms)
    assert not any(isinstance(m, nn.BatchNorm2d) for net in state.networks.values() for m in net.modules())
    assert state.networks["d_a"].receptive_field == 70
    assert isinstance(state.loss, LeastSquaresLoss)
    assert sorted(state.optimizers) == ["discriminators", "generators"]
    g_params = {id(p) for g in state.optimizers["generators"].param_groups for p in g["params"]}
    assert g_params == {id(p) for name in ("g_ab", "g_ba") for p in state.networks[name].parameters()}
    train, model = state.config.train, state.config.model
    assert (train.lr_g, train.beta1, model.lambda_cycle, model.lambda_identity, model.pool_size) == (2e-4, 0.5, 10, 0.5, 50)


def test_generator_loss_combines_adversarial_cycle_and_identity() -> None:
    state = build_tiny_state("cyclegan")
    metrics = _step(state, synthetic_batches(state))
    expected = (metrics["loss_g_ab"] + metrics["loss_g_ba"] + 10 * (metrics["cycle_a"] + metrics["cycle_b"])
                + 5 * (metrics["identity_a"] + metrics["identity_b"]))
    assert metrics["loss_g"] == pytest.approx(expected, rel=1e-5)


def test_discriminators_get_no_gradient_from_the_generator_update() -> None:
    state = build_tiny_state("cyclegan")
    _step(state, synthetic_batches(state))
    assert all(p.requires_grad for name in ("d_a", "d_b") for p in state.networks[name].parameters())


def test_image_pools_fill_and_survive_a_checkpoint_round_trip() -> None:
    state = build_tiny_state("cyclegan", batch_size=2)  # tiny pool of 3
    assert state.extras["pool_a"].shape == (0, 3, 16, 16)
    batches = synthetic_batches(state)
    for _ in range(3):
        _step(state, batches)
        state.step += 1
    assert state.extras["pool_a"].shape == state.extras["pool_b"].shape == (3, 3, 16, 16)
    buffer = io.BytesIO()
    torch.save(state.state_dict(), buffer)
    buffer.seek(0)
    restored = build_tiny_state("cyclegan", batch_size=2, seed=1)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(restored.extras["pool_b"], state.extras["pool_b"])
    torch.manual_seed(7)
    after_original = _step(state, synthetic_batches(state, seed=4))
    torch.manual_seed(7)
    after_restored = _step(restored, synthetic_batches(restored, seed=4))
    assert after_original == after_restored


def test_learning_rate_is_constant_then_decays_linearly_to_zero() -> None:
    """The core's linear schedule over the plugin's optimizer groups (the trainer sets each step's lr)."""
    state = build_tiny_state("cyclegan", steps=100, lr_decay_start=60)
    batches = synthetic_batches(state)
    factors = {}
    for step in (0, 59, 60, 80, 99):
        state.step = step
        state.schedules.at(step)
        factors[step] = _step(state, batches)["lr_factor"]
    assert factors == pytest.approx({0: 1.0, 59: 1.0, 60: 1.0, 80: 0.5, 99: 0.025})
    assert state.optimizers["discriminators"].param_groups[0]["lr"] == pytest.approx(2e-4 * 0.025)
    assert state.optimizers["generators"].param_groups[0]["lr"] == pytest.approx(2e-4 * 0.025)


def test_optimizer_groups_take_the_role_of_their_networks() -> None:
    """[train.optim.generator] (the role) reaches the group over both generators; lr_g / lr_d split as before."""
    state = build_tiny_state("cyclegan", steps=10, lr_g=1e-3, optim={"generator": {"lr_schedule": "cosine"}})
    assert state.optimizers["generators"].param_groups[0]["lr"] == pytest.approx(1e-3)
    assert state.optimizers["discriminators"].param_groups[0]["lr"] == pytest.approx(2e-4)
    assert state.schedules.settings["generators"]["lr_schedule"] == "cosine"
    assert state.schedules.settings["discriminators"]["lr_schedule"] == "linear"


def test_directions_use_the_matching_generator() -> None:
    state = build_tiny_state("cyclegan")
    inputs = torch.rand(2, 3, 16, 16) * 2 - 1
    with torch.no_grad():
        state.eval()
        expected = {d: state.networks[n](inputs) for d, n in (("AtoB", "g_ab"), ("BtoA", "g_ba"))}
        state.train()
    for direction, output in expected.items():
        assert torch.allclose(_translate(state, inputs, direction), output, atol=1e-6)
    with pytest.raises(ValueError, match="direction"):
        _translate(state, inputs, "sideways")


def test_preview_shows_translation_and_reconstruction() -> None:
    state = build_tiny_state("cyclegan")
    batch = {"a": torch.rand(3, 3, 16, 16) * 2 - 1, "b": torch.rand(3, 3, 16, 16) * 2 - 1}
    columns = get_host().call("ganzoo_preview", "cyclegan", state=state, batch=batch)
    assert len(columns) == 3 and torch.equal(columns[0], batch["a"])
    assert torch.allclose(columns[1], _translate(state, batch["a"], "AtoB"), atol=1e-6)
    assert torch.allclose(columns[2], _translate(state, columns[1], "BtoA"), atol=1e-6)


def _shuffled_batches(dataset: ShapesDataset, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    while True:
        index = torch.randint(len(dataset), (batch_size,), generator=generator)
        yield {field: values[index] for field, values in dataset.tensors.items()}


def test_short_run_on_unpaired_shapes_learns_both_domains() -> None:
    torch.manual_seed(0)
    state = _state(SMALL, batch_size=4, steps=100, lr_g=1e-3, lr_d=1e-3)
    train = ShapesDataset("unpaired", image_size=32, size=800)
    test = ShapesDataset("unpaired", split="test", image_size=32, size=64)
    real_a, real_b = test.tensors["a"], test.tensors["b"]

    def evaluate() -> tuple[float, float, float]:
        fake_b = _translate(state, real_a, "AtoB")
        cycle = float((_translate(state, fake_b, "BtoA") - real_a).abs().mean())
        # domain statistic: A has light backgrounds, B dark ones; distance of mean brightness to the target domain
        return cycle, abs(float(fake_b.mean() - real_b.mean())), abs(float(_translate(state, real_b, "BtoA").mean() - real_a.mean()))

    cycle_before, gap_ab_before, gap_ba_before = evaluate()
    batches = IteratorBatchSource(_shuffled_batches(train, 4))
    for _ in range(state.config.train.steps):
        _step(state, batches)
        state.step += 1
    cycle_after, gap_ab_after, gap_ba_after = evaluate()
    domain_gap = abs(float(real_a.mean() - real_b.mean()))
    assert cycle_after < 0.4 * cycle_before
    assert gap_ab_after < 0.25 * domain_gap and gap_ab_after < gap_ab_before  # G(A) looks like B
    assert gap_ba_after < 0.25 * domain_gap and gap_ba_after < gap_ba_before  # F(B) looks like A
