"""pix2pix-specific checks: the paper's architecture and losses, test-time dropout, and learning on paired shapes."""

from __future__ import annotations

from typing import Iterator

import pytest
import torch
from torch import nn

from ganzoo import ConfigError, get_model, resolve_config
from ganzoo.data.shapes import ShapesDataset
from ganzoo.losses import NonSaturatingLoss
from ganzoo.metrics.paired import paired_metrics
from ganzoo.plugins import get_host
from ganzoo.state import IteratorBatchSource, build_state
from ganzoo.testing import build_tiny_state, synthetic_batches

SMALL = {"image_size": 32, "ngf": 8, "ndf": 8, "d_layers": 2, "dropout_blocks": 1}


def _paper_state() -> object:
    spec = get_model("pix2pix")
    return build_state(spec, resolve_config(spec, values={"train": {"device": "cpu"}}), device="cpu")


def _sample(state: object, inputs: torch.Tensor, seed: int | None = 0) -> torch.Tensor:
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    return get_host().call("ganzoo_sample", "pix2pix", state=state, num=len(inputs), inputs=inputs, generator=generator)


def test_paper_architecture_and_defaults() -> None:
    state = _paper_state()
    unet, patchgan = state.networks["generator"], state.networks["discriminator"]
    assert len(unet.encoders) == 8  # 256 px -> 1x1
    assert sum(isinstance(m, nn.Dropout) and m.p == 0.5 for m in unet.modules()) == 3
    assert sum(isinstance(m, nn.BatchNorm2d) for m in unet.modules()) == 6 + 7  # encoder (not first/last) + decoder
    assert patchgan.receptive_field == 70
    assert patchgan.net[0].in_channels == 6  # D sees the input and the output together
    with torch.no_grad():
        assert patchgan(torch.zeros(1, 3, 256, 256), torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    config = state.config
    assert isinstance(state.loss, NonSaturatingLoss)
    assert (config.train.lr_g, config.train.lr_d, config.train.beta1) == (2e-4, 2e-4, 0.5)
    assert config.model.lambda_l1 == 100.0 and config.model.test_dropout


def test_invalid_sizes_are_refused() -> None:
    spec = get_model("pix2pix")
    with pytest.raises(ConfigError, match="model.image_size"):
        resolve_config(spec, overrides=["model.image_size=48"])
    with pytest.raises(ConfigError, match="d_layers"):
        resolve_config(spec, overrides=["model.image_size=16", "model.d_layers=3"])


def test_generator_loss_is_adversarial_plus_100_l1() -> None:
    state = build_tiny_state("pix2pix")
    metrics = get_host().call("ganzoo_train_step", "pix2pix", state=state, batches=synthetic_batches(state))
    assert metrics["loss_g"] == pytest.approx(metrics["loss_g_gan"] + 100 * metrics["l1"], rel=1e-5)


def test_dropout_is_kept_at_test_time_and_seeded() -> None:
    state = build_tiny_state("pix2pix")
    state.eval()
    inputs = torch.rand(2, 3, 16, 16) * 2 - 1
    rng = torch.get_rng_state()
    assert torch.equal(_sample(state, inputs, 1), _sample(state, inputs, 1))
    assert not torch.equal(_sample(state, inputs, 1), _sample(state, inputs, 2))
    assert torch.equal(torch.get_rng_state(), rng), "sampling must not advance the training RNG"
    deterministic = build_tiny_state("pix2pix")
    deterministic.config.model.test_dropout = False
    assert torch.equal(_sample(deterministic, inputs, 1), _sample(deterministic, inputs, 2))


def test_sample_needs_inputs() -> None:
    state = build_tiny_state("pix2pix")
    with pytest.raises(ValueError, match="inputs"):
        get_host().call("ganzoo_sample", "pix2pix", state=state, num=2)


def test_learning_rate_decays_linearly_in_the_second_half() -> None:
    """The core's linear schedule (the trainer sets each step's lr), not a private copy in the step."""
    state = build_tiny_state("pix2pix", steps=10)
    batches = synthetic_batches(state)
    factors = []
    for step in (0, 4, 5, 8):
        state.step = step
        state.schedules.at(step)
        factors.append(get_host().call("ganzoo_train_step", "pix2pix", state=state, batches=batches)["lr_factor"])
    assert factors == pytest.approx([1.0, 1.0, 1.0, 0.4])
    assert state.optimizers["generator"].param_groups[0]["lr"] == pytest.approx(2e-4 * 0.4)
    assert state.optimizers["discriminator"].param_groups[0]["lr"] == pytest.approx(2e-4 * 0.4)


def _shuffled_batches(dataset: ShapesDataset, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    while True:
        index = torch.randint(len(dataset), (batch_size,), generator=generator)
        yield {field: values[index] for field, values in dataset.tensors.items()}


def test_short_run_on_paired_shapes_learns_the_translation() -> None:
    spec = get_model("pix2pix")
    config = resolve_config(spec, values={"model": SMALL, "train": {"batch_size": 8, "steps": 200, "lr_g": 1e-3,
                                                                    "lr_d": 1e-3, "device": "cpu"}})
    torch.manual_seed(0)
    state = build_state(spec, config, device="cpu")
    train = ShapesDataset("paired", image_size=32, size=800)
    test = ShapesDataset("paired", split="test", image_size=32, size=64)
    inputs, targets = test.tensors["input"], test.tensors["image"]
    untrained = paired_metrics(_sample(state, inputs), targets)
    batches = IteratorBatchSource(_shuffled_batches(train, 8))
    for _ in range(config.train.steps):
        get_host().call("ganzoo_train_step", spec, state=state, batches=batches)
        state.step += 1
    trained = paired_metrics(_sample(state, inputs), targets)
    mean_target = targets.mean(0, keepdim=True).expand_as(targets).contiguous()
    baseline = paired_metrics(mean_target, targets)  # the best output that ignores the input
    assert trained["l1"] < 0.4 * untrained["l1"]
    assert trained["l1"] < 0.8 * baseline["l1"], (trained, baseline)
    assert trained["ssim"] > untrained["ssim"] and trained["ssim"] > baseline["ssim"]


@pytest.mark.parametrize("image_size, blocks", [(256, 3), (128, 2), (64, 1), (32, 0)])
def test_dropout_blocks_follow_the_reference(image_size: int, blocks: int) -> None:
    spec = get_model("pix2pix")
    config = resolve_config(spec, overrides=[f"model.image_size={image_size}", "model.d_layers=2"])
    unet = get_host().call("ganzoo_build_generator", spec, config=config.model)
    assert sum(isinstance(m, nn.Dropout) for m in unet.modules()) == blocks


def test_translation_normalises_with_the_test_batch_statistics() -> None:
    state = build_tiny_state("pix2pix")
    state.config.model.test_dropout = False
    unet = state.sampling_network("generator")
    for module in unet.modules():  # running statistics far from any batch's: eval-mode BN would be visibly off
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.fill_(5.0)
    buffers = {name: value.clone() for name, value in unet.named_buffers()}
    inputs = torch.rand(4, 3, 16, 16) * 2 - 1
    together = _sample(state, inputs)
    alone = torch.cat([_sample(state, inputs[:2]), _sample(state, inputs[2:])])
    assert not torch.allclose(together, alone), "each image must be normalised with its batch's statistics"
    assert all(torch.equal(value, buffers[name]) for name, value in unet.named_buffers()), "running stats changed"
    unet.train()
    unet.set_dropout(False)
    with torch.no_grad():
        assert torch.allclose(together, unet(inputs).clamp(-1, 1), atol=1e-5)
    state.config.model.test_batch_statistics = False
    assert torch.allclose(_sample(state, inputs), torch.cat([_sample(state, inputs[:2]), _sample(state, inputs[2:])]))
