"""PPGN-specific checks: the sampler's update rule, chains that climb log p(y | G(h)), the DAE prior that
learns, frozen E/C, determinism, the chain preview, and loading condition networks safely."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from ganzoo import get_model, resolve_config
from ganzoo.config import ConfigError
from ganzoo.data.digits import DigitsDataset
from ganzoo.plugins import get_host
from ganzoo.state import IteratorBatchSource, build_state
from ganzoo.testing import build_tiny_state, parameters_snapshot
from ganzoo_ppgn.classifier import (
    ClassifierError,
    DigitsAlexNet,
    load_alexnet_file,
    load_condition_network,
    sha256_file,
    shipped_paths,
)
from ganzoo_ppgn.sampler import MCMCSettings, clip_codes, run_chains, scaled_settings
from ganzoo_ppgn.train_classifier import save
from ganzoo_ppgn.training import chain_preview, sample_chains


def _digit_batches(state: object, batch_size: int = 16, seed: int = 0) -> IteratorBatchSource:
    config = state.model_config
    data = DigitsDataset("train", config.image_size, config.channels)
    generator = torch.Generator().manual_seed(seed)

    def stream():
        while True:
            index = torch.randint(len(data), (batch_size,), generator=generator)
            yield {"image": data.tensors["image"][index], "label": data.tensors["label"][index]}

    return IteratorBatchSource(stream())


def _train(state: object, steps: int, batches: IteratorBatchSource) -> dict[str, float]:
    metrics = {}
    for _ in range(steps):
        metrics = get_host().call("ganzoo_train_step", "ppgn", state=state, batches=batches)
        state.step += 1
    return metrics


# -- the update rule --------------------------------------------------------------------------------
def _linear_chain_parts(dim: int = 6):
    weights = torch.randn(dim, 3, generator=torch.Generator().manual_seed(0))

    def generator(codes: torch.Tensor) -> torch.Tensor:
        return codes[:, :, None, None]  # an "image" that is the code itself

    def log_prob(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        logits = images.flatten(1) @ weights
        return torch.log_softmax(logits, 1).gather(1, labels[:, None])[:, 0]

    return generator, log_prob, weights


def test_steps_are_normalised_by_mean_absolute_update_per_chain() -> None:
    generator, log_prob, _ = _linear_chain_parts()
    start = torch.randn(4, 6, generator=torch.Generator().manual_seed(1))
    settings = MCMCSettings(steps=1, epsilon1=0.0, epsilon3=0.0, lr=0.25, lr_end=0.25)
    result = run_chains(generator, log_prob, lambda h: h, torch.tensor([0, 1, 2, 0]), start, settings)
    moved = (result.codes - start).abs().mean(dim=1)
    assert torch.allclose(moved, torch.full((4,), 0.25), atol=1e-6)


def test_update_combines_prior_condition_and_noise_as_in_eq_11() -> None:
    generator, log_prob, _ = _linear_chain_parts()
    start = torch.rand(2, 6, generator=torch.Generator().manual_seed(2))
    labels = torch.tensor([1, 2])
    target = torch.full((6,), 0.5)
    settings = MCMCSettings(steps=1, epsilon1=0.3, epsilon2=2.0, epsilon3=0.1, lr=1.0, lr_end=1.0)
    result = run_chains(generator, log_prob, lambda h: target.expand_as(h), labels, start, settings,
                        noise=torch.Generator().manual_seed(9))
    h = start.clone().requires_grad_(True)
    (gradient,) = torch.autograd.grad(log_prob(generator(h), labels).sum(), h)
    noise = 0.1 * torch.randn(start.shape, generator=torch.Generator().manual_seed(9))
    d_h = 0.3 * (target - start) + 2.0 * gradient + noise
    expected = start + d_h / d_h.abs().mean(dim=1, keepdim=True)
    assert torch.allclose(result.codes, expected, atol=1e-6)


def test_codes_are_clipped_to_the_known_range_and_free_where_unknown() -> None:
    low, high = torch.tensor([0.0, 0.0, torch.inf]), torch.tensor([1.0, 2.0, -torch.inf])
    clipped = clip_codes(torch.tensor([[-1.0, 3.0, 7.0], [0.5, 1.5, -7.0]]), low, high)
    assert torch.equal(clipped, torch.tensor([[0.0, 2.0, 7.0], [0.5, 1.5, -7.0]]))


def test_step_size_decays_linearly_to_lr_end() -> None:
    generator, log_prob, _ = _linear_chain_parts()
    start = torch.randn(1, 6, generator=torch.Generator().manual_seed(3))
    settings = MCMCSettings(steps=4, epsilon1=0.0, epsilon3=0.0, lr=1.0, lr_end=0.0)
    codes = [start]
    for steps in range(1, 5):  # a chain of n steps is the first n steps of a longer one, decay aside
        partial = MCMCSettings(steps=4, epsilon1=0.0, epsilon3=0.0, lr=1.0, lr_end=0.0)
        codes.append(run_chains(generator, log_prob, lambda h: h, torch.tensor([0]), codes[-1],
                                MCMCSettings(1, 0.0, 1.0, 0.0, partial.lr - (steps - 1) / 4, 0.0)).codes)
    full = run_chains(generator, log_prob, lambda h: h, torch.tensor([0]), start, settings)
    moves = [float((b - a).abs().mean()) for a, b in zip(codes, codes[1:])]
    assert moves == pytest.approx([1.0, 0.75, 0.5, 0.25], abs=1e-6)
    assert torch.allclose(full.codes, codes[-1], atol=1e-5)


def test_paper_settings_are_converted_to_the_code_range() -> None:
    paper = MCMCSettings()
    assert scaled_settings(paper, 30.0) == paper
    scaled = scaled_settings(paper, 3.0)  # codes ten times smaller than fc6's
    assert (scaled.lr, scaled.init_std) == pytest.approx((0.1, 0.1))
    assert scaled.epsilon1 == pytest.approx(1e-3) and scaled.epsilon3 == pytest.approx(1e-16)
    assert scaled.epsilon2 == 1.0 and scaled.steps == 200


# -- chains on a model --------------------------------------------------------------------------------
def test_log_probability_of_the_requested_class_rises_along_a_chain() -> None:
    state = build_tiny_state("ppgn")
    _train(state, 3, _digit_batches(state))
    state.config.sample.steps = 30
    labels = torch.tensor([0, 3, 5, 7, 9, 1])
    result = sample_chains(state, len(labels), labels, torch.Generator().manual_seed(0))
    assert result.log_probs.shape == (31, 6)
    start, end = result.log_probs[0], result.log_probs[-1]
    assert bool((end > start).all()), f"log p fell on some chains: {start.tolist()} -> {end.tolist()}"
    assert float(end.mean() - start.mean()) > 0.5


def test_chains_are_deterministic_for_a_seed() -> None:
    state = build_tiny_state("ppgn")
    state.config.sample.epsilon3 = 1.0  # a noise term that matters
    labels = torch.tensor([2, 4])

    def sample(seed: int) -> torch.Tensor:
        return get_host().call("ganzoo_sample", "ppgn", state=state, num=2, labels=labels,
                               generator=torch.Generator().manual_seed(seed))

    assert torch.equal(sample(5), sample(5))
    assert not torch.equal(sample(5), sample(6))


def test_given_starting_codes_fix_noiseless_chains_whatever_the_generator() -> None:
    state = build_tiny_state("ppgn")
    state.config.sample.epsilon3 = 0.0
    start = {"h": torch.randn(2, state.model_config.latent_dim, generator=torch.Generator().manual_seed(1))}

    def sample(seed: int) -> torch.Tensor:
        return get_host().call("ganzoo_sample", "ppgn", state=state, num=2, labels=torch.tensor([4, 4]),
                               generator=torch.Generator().manual_seed(seed), latents=start)

    assert torch.equal(sample(0), sample(1))


def test_roles_and_sample_settings_are_declared() -> None:
    spec = get_model("ppgn")
    assert spec.roles == {"classifier": "frozen", "dae": "auxiliary"}
    state = build_tiny_state("ppgn")
    assert state.roles["generator"] == "generator" and state.roles["discriminator"] == "discriminator"
    assert sorted(state.optimizers) == ["dae", "discriminator", "generator"] and not state.ema
    state.train()
    assert not state.networks["classifier"].training and not state.networks["classifier"].net.training
    config = resolve_config(spec, overrides=["sample.steps=50", "sample.prior=joint"])
    assert (config.sample.steps, config.sample.prior, config.sample.epsilon1) == (50, "joint", 1e-5)


def test_sampling_works_under_no_grad_and_keeps_no_parameter_gradients() -> None:
    state = build_tiny_state("ppgn")
    with torch.no_grad():
        images = get_host().call("ganzoo_sample", "ppgn", state=state, num=3, labels=torch.tensor([1, 2, 3]))
    assert images.shape == (3, 1, 8, 8) and torch.isfinite(images).all()
    assert all(p.grad is None for net in state.networks.values() for p in net.parameters())


def test_chain_preview_has_one_row_per_class_and_columns_over_time() -> None:
    state = build_tiny_state("ppgn")
    state.config.sample.steps = 7
    columns = get_host().call("ganzoo_preview", "ppgn", state=state, batch={})
    assert len(columns) == 8 and all(column.shape == (10, 1, 8, 8) for column in columns)
    final = sample_chains(state, 10, torch.arange(10), torch.Generator().manual_seed(state.config.train.seed))
    assert torch.allclose(columns[-1], final.images.clamp(-1, 1))
    assert len(chain_preview(state, torch.tensor([3, 3]), columns=3)) == 3  # steps 0, 4 and the end (7)


# -- training -------------------------------------------------------------------------------------------
def test_dae_reconstruction_error_falls_with_training() -> None:
    state = build_tiny_state("ppgn")
    batches = _digit_batches(state, batch_size=32)
    probe = batches.next()["image"]
    with torch.no_grad():
        codes = state.networks["classifier"].encode(probe)
    noisy = codes + 0.1 * codes.pow(2).mean().sqrt() * torch.randn(codes.shape, generator=torch.Generator().manual_seed(0))

    def error() -> float:
        with torch.no_grad():
            return float(((state.networks["dae"](noisy) - codes) ** 2).mean() / codes.pow(2).mean())

    before = error()
    state.optimizers["dae"].param_groups[0]["lr"] = 1e-2  # the tiny DAE learns visibly in a few steps
    _train(state, 30, batches)
    assert error() < 0.5 * before


def test_frozen_classifier_is_unchanged_by_training_and_gets_no_optimizer() -> None:
    state = build_tiny_state("ppgn")
    classifier = state.networks["classifier"]
    assert "classifier" not in state.optimizers
    assert not any(p.requires_grad for p in classifier.parameters())
    probe = torch.rand(4, 1, 8, 8) * 2 - 1
    before_out = classifier.logits(probe)
    before = parameters_snapshot(state)["classifier"]
    _train(state, 3, _digit_batches(state))
    after = parameters_snapshot(state)["classifier"]
    assert all(torch.equal(before[key], after[key]) for key in before)
    assert not classifier.net.training  # dropout stays off even while the run trains
    assert torch.equal(classifier.logits(probe), before_out)


def test_generator_loss_combines_its_terms_with_the_configured_weights() -> None:
    state = build_tiny_state("ppgn")
    model = state.config.model
    model.lambda_image, model.lambda_feature, model.lambda_feature1, model.lambda_adversarial = 2.0, 0.3, 0.7, 0.05
    metrics = _train(state, 1, _digit_batches(state))
    expected = (2.0 * metrics["image_mse"] + 0.3 * metrics["feature_rel"] + 0.7 * metrics["feature1_rel"]
                + 0.05 * metrics["adversarial"])
    assert metrics["loss_g"] == pytest.approx(expected, rel=1e-5)


def test_training_records_the_range_of_real_codes() -> None:
    state = build_tiny_state("ppgn")
    assert bool((state.extras["code_low"] > state.extras["code_high"]).all())  # nothing seen yet
    batches = _digit_batches(state)
    _train(state, 2, batches)
    low, high = state.extras["code_low"], state.extras["code_high"]
    assert bool((low >= 0).all()) and float(high.max()) > 0  # fc6 after its ReLU


# -- condition networks -----------------------------------------------------------------------------------
def test_shipped_classifier_is_checked_against_its_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ganzoo_ppgn import classifier as module

    weights, card = shipped_paths("ppgn-digits")
    assert sha256_file(weights) == json.loads(card.read_text())["sha256"]
    net = load_condition_network("ppgn-digits")
    assert net.weights_sha256 == json.loads(card.read_text())["sha256"]
    copy = tmp_path / "weights"
    copy.mkdir()
    shutil.copy(card, copy / card.name)
    corrupted = bytearray(weights.read_bytes())
    corrupted[-1] ^= 0xFF
    (copy / weights.name).write_bytes(bytes(corrupted))
    monkeypatch.setattr(module, "WEIGHTS_DIR", copy)
    with pytest.raises(ClassifierError, match="sha256"):
        load_condition_network("ppgn-digits")


def test_shipped_classifier_is_not_the_bench_extractor_and_recognises_digits() -> None:
    from ganzoo.metrics.classifier import read_card

    ours = load_condition_network("ppgn-digits")
    assert ours.weights_sha256 != read_card("digits-cnn")["sha256"]
    data = DigitsDataset("test", 32, 1)
    with torch.no_grad():
        predictions = ours.logits(data.tensors["image"]).argmax(1)
    assert float((predictions == data.tensors["label"]).float().mean()) > 0.97


def test_weights_file_by_path_round_trips(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = DigitsAlexNet(channels=3, num_classes=4, image_size=16, width=4, code_dim=8)
    card = save(net, {"name": "mine"}, tmp_path / "mine.safetensors", None)
    loaded = load_condition_network(str(tmp_path / "mine.safetensors"))
    assert loaded.weights_sha256 == card["sha256"] and loaded.num_classes == 4
    images = torch.rand(2, 1, 32, 32) * 2 - 1  # other size and channels: adapted
    assert loaded.encode(images).shape == (2, 8) and loaded.logits(images).shape == (2, 4)
    with pytest.raises(ClassifierError, match="sha256"):
        load_alexnet_file(tmp_path / "mine.safetensors", expected_sha256="0" * 64)


def test_unknown_or_missing_classifiers_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ClassifierError, match="allowed: ppgn-digits"):
        load_condition_network("alexnet")
    with pytest.raises(ClassifierError, match="do not exist"):
        load_condition_network(str(tmp_path / "missing.safetensors"))
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ClassifierError, match="train_classifier"):
        load_condition_network(str(tmp_path / "junk.safetensors"))


def test_timm_classifier_loads_from_a_local_file_only(tmp_path: Path) -> None:
    import timm
    from safetensors.torch import save_file

    with pytest.raises(ClassifierError, match="downloads are disabled.*model.classifier_weights=PATH"):
        load_condition_network("timm:resnet10t")  # not in the local cache: says where to put the file
    with pytest.raises(ClassifierError, match="do not exist"):
        load_condition_network("timm:resnet10t", str(tmp_path / "absent.safetensors"))
    net = timm.create_model("resnet10t", pretrained=False, num_classes=1000)
    save_file(net.state_dict(), str(tmp_path / "resnet10t.safetensors"))
    loaded = load_condition_network("timm:resnet10t", str(tmp_path / "resnet10t.safetensors"))
    assert loaded.weights_sha256 == sha256_file(tmp_path / "resnet10t.safetensors")
    images = torch.rand(1, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        first, code = loaded.features(images)
        assert code.shape == (1, 512) and first.dim() == 4 and loaded.logits(images).shape == (1, 1000)


def test_classifier_that_does_not_fit_the_config_is_a_config_error() -> None:
    spec = get_model("ppgn")
    for change, field in (({"latent_dim": 64}, "model.latent_dim=128"), ({"num_classes": 5}, "model.num_classes=10")):
        config = resolve_config(spec, values={"model": {**spec.tiny_config, **change}})
        with pytest.raises(ConfigError, match=field):
            build_state(spec, config, device="cpu")


# -- bench ------------------------------------------------------------------------------------------------
def test_bench_refuses_a_run_steered_by_the_protocols_own_classifier() -> None:
    from ganzoo.metrics.bench import BenchError, prepare

    tiny = [f"model.{key}={value}" for key, value in get_model("ppgn").tiny_config.items()]
    with pytest.raises(BenchError, match="feature extractor ganzoo-digits-cnn.*meaningless"):
        prepare("ppgn", protocol="digits", overrides=[*tiny, "model.classifier=ganzoo-digits-cnn",
                                                      "model.latent_dim=64"])
    target, protocol, _ = prepare("ppgn", protocol="digits", overrides=tiny)  # its own classifier: fine
    assert target.state.networks["classifier"].weights_sha256 != protocol.weights_sha256


# -- command line -------------------------------------------------------------------------------------------
def test_ganzoo_sample_draws_chains_for_one_class_reproducibly(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import ganzoo
    from ganzoo.cli import main

    run = tmp_path / "run"
    ganzoo.train("ppgn", run, steps=2, model_config=get_model("ppgn").tiny_config, batch_size=8, device="cpu",
                 progress=False, sample_every=100, checkpoint_every=100)
    for name in ("a.png", "b.png"):
        assert main(["sample", str(run), "--class", "3", "--num", "4", "--seed", "7", "--out", str(tmp_path / name)]) == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert main(["sample", str(run), "--class", "10", "--num", "1", "--out", str(tmp_path / "c.png")]) != 0
    assert "classes 0..9" in capsys.readouterr().err
