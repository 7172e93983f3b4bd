"""Evidence of conditional learning: short sagan / biggan-lite runs on digits make digits of the requested class.

Two yardsticks on 500 samples (classes 0..9 in turn): the pixel Fréchet distance to held-out digits
(:func:`ganzoo.testing.pixel_frechet_distance`) must more than halve from the same generator at initialisation,
and the shipped digits classifier (the ``digits`` protocol's ``ganzoo-digits-cnn``, trained independently of
these models) must recognise a clear majority of the samples as the class they were asked for (chance: 10%).
Tiny 16 px networks and raised learning rates (the papers' are tuned for long ImageNet runs) keep each run
under a minute on one core; the measured numbers of longer runs are in docs/conditional.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganzoo import get_model, resolve_config
from ganzoo.checkpoint import load_run
from ganzoo.data.digits import DigitsDataset
from ganzoo.metrics.classifier import load_classifier
from ganzoo.metrics.reference import resize_images
from ganzoo.sampling import sample_images
from ganzoo.state import build_state
from ganzoo.testing import pixel_frechet_distance
from ganzoo.trainer import Trainer

SAMPLES = 500
FAST = {"lr_g": 1e-3, "lr_d": 1e-3, "batch_size": 32}


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _samples(state, labels: torch.Tensor) -> torch.Tensor:
    return sample_images(state, len(labels), labels=labels, generator=torch.Generator().manual_seed(1))


@pytest.mark.slow
@pytest.mark.parametrize(("model", "steps", "train"), [
    ("sagan", 400, FAST),
    # one D step per G step and no averaging yet (the EMA copies G until ema_start): a short run's settings
    ("biggan-lite", 300, {**FAST, "n_critic": 1, "ema_start": 10**6}),
])
def test_short_run_makes_digits_of_the_requested_class(tmp_path: Path, model: str, steps: int, train: dict) -> None:
    model_values = {"image_size": 16, "channels": 1, "latent_dim": 32, "ngf": 8, "ndf": 8}
    train_values = {"steps": steps, "device": "cpu", "progress": False, "sample_every": 10**6,
                    "checkpoint_every": 10**6, "log_every": 100, "seed": 0, **train}
    config = resolve_config(get_model(model), values={"model": model_values, "train": train_values})
    held_out = DigitsDataset("test", 16, 1).tensors["image"]
    labels = torch.arange(SAMPLES) % 10
    torch.manual_seed(config.train.seed)  # the trainer starts from exactly these weights
    before = pixel_frechet_distance(_samples(build_state(model, config, device="cpu"), labels), held_out)

    Trainer(config, tmp_path).train()
    images = _samples(load_run(tmp_path).state, labels)
    after = pixel_frechet_distance(images, held_out)
    judge, _ = load_classifier("digits-cnn")
    with torch.no_grad():
        accuracy = (judge(resize_images(images, 32, 1))[1].argmax(1) == labels).float().mean().item()
    print(f"{model}: pixel Fréchet distance {before:.2f} -> {after:.2f}; class accuracy {accuracy:.3f}")
    assert after < 0.5 * before, f"{model} did not move toward the data: {before:.2f} -> {after:.2f}"
    assert accuracy > 0.5, f"{model}: only {accuracy:.1%} of the samples are recognised as their class"
