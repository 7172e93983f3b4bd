"""Relativistic average losses match the paper's formulas, the generator sees real scores, and loss factories
read the run's settings."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from ganzoo.losses import (
    GANLoss,
    HingeLoss,
    RaHingeLoss,
    RaLSGANLoss,
    RaSGANLoss,
    generator_objective,
)
from ganzoo.plugins import get_host
from ganzoo.testing import build_tiny_state, synthetic_batches

REAL = torch.tensor([1.5, -0.3, 0.8, 2.0])
FAKE = torch.tensor([-1.0, 0.4, -0.2, 0.1])


def _paper(name: str, real: torch.Tensor, fake: torch.Tensor) -> tuple[float, float]:
    """D and G losses written out as in Jolicoeur-Martineau's reference code (scalar scores)."""
    r, f = real - fake.mean(), fake - real.mean()
    ones, zeros = torch.ones_like(r), torch.zeros_like(r)
    if name == "rasgan":
        bce = F.binary_cross_entropy_with_logits
        return float((bce(r, ones) + bce(f, zeros)) / 2), float((bce(r, zeros) + bce(f, ones)) / 2)
    if name == "ralsgan":
        return (float((((r - 1) ** 2).mean() + ((f + 1) ** 2).mean()) / 2),
                float((((r + 1) ** 2).mean() + ((f - 1) ** 2).mean()) / 2))
    return (float((F.relu(1 - r).mean() + F.relu(1 + f).mean()) / 2),
            float((F.relu(1 + r).mean() + F.relu(1 - f).mean()) / 2))


@pytest.mark.parametrize("name, cls", [("rasgan", RaSGANLoss), ("ralsgan", RaLSGANLoss), ("rahinge", RaHingeLoss)])
def test_relativistic_losses_follow_the_paper(name: str, cls: type[GANLoss]) -> None:
    loss = get_host().get_loss(name).build()
    assert isinstance(loss, cls) and loss.generator_needs_real_scores
    d_expected, g_expected = _paper(name, REAL, FAKE)
    assert float(loss.discriminator_loss(REAL, FAKE)) == pytest.approx(d_expected, rel=1e-6)
    assert float(generator_objective(loss, FAKE, REAL)) == pytest.approx(g_expected, rel=1e-6)
    # the generator's objective depends on the real scores (that is what makes it relativistic)
    assert float(generator_objective(loss, FAKE, REAL + 1)) != pytest.approx(g_expected)
    with pytest.raises(ValueError, match="relativistic"):
        generator_objective(loss, FAKE)


def test_score_maps_are_averaged_over_the_batch_per_location() -> None:
    real, fake = torch.randn(4, 1, 3, 3), torch.randn(4, 1, 3, 3)
    loss = RaHingeLoss()
    expected = torch.stack([loss.discriminator_loss(real[..., i, j], fake[..., i, j]) for i in range(3) for j in range(3)])
    assert float(loss.discriminator_loss(real, fake)) == pytest.approx(float(expected.mean()), rel=1e-5)


def test_non_relativistic_losses_ignore_real_scores_and_keep_api1_calls() -> None:
    class Api1Loss(GANLoss):  # a loss written for API 1: one-argument generator_loss
        def discriminator_loss(self, real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
            return fake_scores.mean() - real_scores.mean()

        def generator_loss(self, fake_scores: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
            return -fake_scores.mean()

    assert float(generator_objective(Api1Loss(), FAKE, REAL)) == pytest.approx(-float(FAKE.mean()))
    assert float(generator_objective(HingeLoss(), FAKE, REAL)) == float(HingeLoss().generator_loss(FAKE))


def test_default_step_feeds_real_scores_to_a_relativistic_generator_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    state = build_tiny_state("dcgan", loss="rahinge")
    seen: list[torch.Tensor | None] = []
    original = state.loss.generator_loss

    def spy(fake_scores: torch.Tensor, real_scores: torch.Tensor | None = None) -> torch.Tensor:
        seen.append(real_scores)
        return original(fake_scores, real_scores)

    monkeypatch.setattr(state.loss, "generator_loss", spy)
    metrics = get_host().call("ganzoo_train_step", "dcgan", state=state, batches=synthetic_batches(state))
    assert seen and seen[0] is not None and seen[0].shape[0] == state.config.train.batch_size
    assert not seen[0].requires_grad, "real scores reach G's loss without a graph into D"
    assert all(torch.isfinite(torch.as_tensor(value)).all() for value in metrics.values())


def test_a_loss_factory_reads_the_run_settings() -> None:
    from ganzoo.specs import LossSpec

    spec = LossSpec("margin-hinge", lambda config: ("built with", config.train.loss_options["margin"]), "test")
    state_config = build_tiny_state("dcgan", loss_options={"margin": 2.5}).config
    assert spec.build(state_config) == ("built with", 2.5)
    assert LossSpec("plain", lambda: "api1", "test").build(state_config) == "api1"
