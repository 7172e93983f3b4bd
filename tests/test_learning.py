"""Evidence of learning: short runs on the embedded digits move the samples measurably toward held-out digits.

The yardstick is :func:`ganzoo.testing.pixel_frechet_distance`, a Fréchet distance between Gaussians fitted to
8x8-average-pooled pixels of generated and held-out images (FID's formula on raw pixel statistics: cheap,
deterministic, no pretrained network).  A
trained generator must more than halve the distance of the same generator at initialisation.  Longer runs
and real metrics live in benchmarks/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ganzoo import get_model, resolve_config
from ganzoo.checkpoint import load_run
from ganzoo.config import RunConfig
from ganzoo.data.digits import DigitsDataset
from ganzoo.state import build_state
from ganzoo.testing import pixel_frechet_distance, sample_images
from ganzoo.trainer import Trainer

SAMPLES = 512


def _config(model: str, steps: int, **train: object) -> RunConfig:
    model_values = {"image_size": 16, "channels": 1, "latent_dim": 32, "ngf": 16, "ndf": 16}
    train_values = {"steps": steps, "batch_size": 32, "device": "cpu", "progress": False, "sample_every": 10**6,
                    "checkpoint_every": 10**6, "log_every": 50, "seed": 0, **train}
    return resolve_config(get_model(model), values={"model": model_values, "train": train_values})


@pytest.mark.slow
@pytest.mark.parametrize(("model", "steps", "train"), [
    ("dcgan", 150, {"lr_g": 1e-3, "lr_d": 2e-4}),  # a faster generator (TTUR-style) learns in fewer steps
    ("wgan-gp", 60, {"lr_g": 5e-4, "lr_d": 5e-4}),
])
def test_training_on_digits_moves_samples_toward_held_out_digits(tmp_path: Path, model: str, steps: int, train: dict) -> None:
    config = _config(model, steps, **train)
    held_out = DigitsDataset("test", 16, 1).tensors["image"]
    torch.manual_seed(config.train.seed)  # the trainer starts from exactly these weights
    untrained = build_state(model, config, device="cpu")
    before = pixel_frechet_distance(sample_images(untrained, SAMPLES, seed=1), held_out)

    Trainer(config, tmp_path).train()
    after = pixel_frechet_distance(sample_images(load_run(tmp_path).state, SAMPLES, seed=1), held_out)
    train_images = DigitsDataset("train", 16, 1).tensors["image"][:SAMPLES]
    floor = pixel_frechet_distance(train_images, held_out)  # real digits against real digits
    print(f"{model}: pixel Fréchet distance untrained {before:.2f} -> trained {after:.2f} (real data {floor:.2f})")
    assert after < 0.5 * before, f"{model} did not learn: {before:.2f} -> {after:.2f}"
