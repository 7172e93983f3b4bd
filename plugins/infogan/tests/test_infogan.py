"""InfoGAN-specific checks: the paper's latents, networks and optimisers, the information term, the traversal
preview, the mutual-information estimate and the code -> class matching."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganzoo import get_model, resolve_config
from ganzoo.latents import Categorical, Uniform
from ganzoo.plugins import get_host
from ganzoo.state import build_state, seed_everything
from ganzoo.steps import StepContext
from ganzoo.testing import build_tiny_state, synthetic_batches
from ganzoo_infogan.evaluation import (best_assignment, confusion_matrix, generated_code_accuracy, mutual_information,
                                       real_data_accuracy)
from ganzoo_infogan.information import information_terms
from ganzoo_infogan.networks import CodePrediction
from ganzoo_infogan.training import information_loss, traversal_latents


def test_paper_latents_and_optimiser_settings() -> None:
    spec = get_model("infogan")
    config = resolve_config(spec)
    latents = get_host().call("ganzoo_latents", spec, config=config.model)
    assert latents == {"z": Uniform(62, -1.0, 1.0), "code": Categorical(10), "c1": Uniform(1, -1.0, 1.0),
                       "c2": Uniform(1, -1.0, 1.0)}
    train = config.train
    assert (train.loss, train.lr_g, train.lr_d, train.beta1, train.batch_size) == ("non-saturating", 1e-3, 2e-4, 0.5, 128)


def test_q_head_shares_the_discriminator_and_its_optimizer() -> None:
    state = build_tiny_state("infogan")
    assert set(state.networks) == {"generator", "discriminator"}
    d_params = {id(p) for group in state.optimizers["discriminator"].param_groups for p in group["params"]}
    q_head = state.networks["discriminator"].q_head
    assert all(id(p) in d_params for p in q_head.parameters())
    assert state.optimizers["generator"].param_groups[0]["lr"] == 1e-3
    assert state.optimizers["discriminator"].param_groups[0]["lr"] == 2e-4


def test_categorical_term_is_cross_entropy_on_raw_logits() -> None:
    codes = torch.tensor([0, 1, 2, 1])
    confident = CodePrediction(20.0 * F.one_hot(codes, 3).float(), torch.zeros(4, 0))
    terms = information_terms(confident, {"code": codes}, lambda_cat=1.0, lambda_cont=0.1)
    assert terms["info_cat"] < 1e-6  # a softmax before the cross-entropy would leave ~ln 3 - 1
    uniform = CodePrediction(torch.zeros(4, 3), torch.zeros(4, 0))
    assert information_terms(uniform, {"code": codes}, 1.0, 0.1)["info_cat"] == pytest.approx(math.log(3))


def test_continuous_term_is_weighted_gaussian_nll() -> None:
    codes = torch.zeros(2, dtype=torch.long)
    prediction = CodePrediction(torch.zeros(2, 3), torch.tensor([[0.5, 0.0], [0.0, 0.0]]))
    latents = {"code": codes, "c1": torch.tensor([[0.5], [1.0]]), "c2": torch.tensor([[0.0], [-1.0]])}
    terms = information_terms(prediction, latents, lambda_cat=1.0, lambda_cont=0.1)
    assert terms["info_cont"].item() == pytest.approx(0.1 * 0.5 * (0 + 1 + 1) / 2)


def _step_context(state, role: str) -> StepContext:
    latents = state.draw_latents(4)
    fake = state.generate(latents)
    if role == "discriminator":
        state.discriminate(fake.detach())
    else:
        state.discriminate(fake)
    return StepContext(state, None, None, latents, fake, None, None, None)


@pytest.mark.parametrize("role", ["discriminator", "generator"])
def test_information_term_reaches_the_right_networks(role: str) -> None:
    state = build_tiny_state("infogan")
    terms = information_loss(state, role, _step_context(state, role))
    sum(terms.values()).backward()
    d_net, g_net = state.networks["discriminator"], state.networks["generator"]
    has_grad = lambda module: any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())  # noqa: E731
    assert has_grad(d_net.q_head) and has_grad(d_net.trunk)  # Q and the shared trunk
    assert has_grad(g_net) == (role == "generator")  # D's update must not push gradients into G
    assert not has_grad(d_net.head)


def test_q_reuses_the_trunk_pass_of_the_same_images_only() -> None:
    state = build_tiny_state("infogan")
    net = state.networks["discriminator"].eval()
    images = torch.rand(3, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        fresh = net.code_predictions(images).logits
        net(images)
        cached_features = net._last[3]
        assert torch.equal(net._features(images), cached_features)
        assert torch.allclose(net.code_predictions(images).logits, fresh)
        other = images.clone()
        assert net._features(other) is not cached_features
    assert net._features(images) is not cached_features  # features without a graph are not reused for training


def test_train_step_logs_information_terms_and_estimate() -> None:
    state = build_tiny_state("infogan")
    metrics = get_host().call("ganzoo_train_step", "infogan", state=state, batches=synthetic_batches(state))
    assert {"loss_d_info_cat", "loss_d_info_cont", "loss_g_info_cat", "loss_g_info_cont", "mi_estimate"} <= set(metrics)
    assert float(metrics["mi_estimate"]) == pytest.approx(math.log(3) - float(metrics["loss_g_info_cat"]), abs=1e-6)
    assert state.networks["discriminator"]._last is None  # no graph kept between steps


def test_traversal_latents_rows_are_codes_columns_sweep_one_code() -> None:
    state = build_tiny_state("infogan")
    latents = traversal_latents(state, "c1", torch.Generator().manual_seed(0))
    steps, rows = state.config.sample.traverse_steps, state.model_config.categories
    assert latents["code"].tolist() == [k for k in range(rows) for _ in range(steps)]
    assert latents["c1"].view(rows, steps)[0].tolist() == pytest.approx(torch.linspace(-2, 2, steps).tolist())
    assert (latents["z"] == latents["z"][0]).all()


def test_preview_is_one_column_per_swept_value_and_one_row_per_code() -> None:
    state = build_tiny_state("infogan")
    columns = get_host().call("ganzoo_preview", "infogan", state=state, batch={})
    config = state.model_config
    assert len(columns) == config.continuous_codes * state.config.sample.traverse_steps
    assert all(column.shape == (config.categories, 1, 8, 8) for column in columns)
    assert all(column.min() >= -1 and column.max() <= 1 for column in columns)


def test_best_assignment_finds_the_permutation() -> None:
    truth = np.array([3, 3, 0, 1, 2, 2, 1, 0, 3])
    codes = (truth + 1) % 4  # code = class + 1: a perfect classifier up to relabelling
    codes[0] = 2  # one mistake (class 3 should be code 0)
    matching = best_assignment(confusion_matrix(codes, truth, 4, 4))
    assert matching.assignment == {1: 0, 2: 1, 3: 2, 0: 3}
    assert matching.accuracy == pytest.approx(8 / 9)


def test_best_assignment_with_more_classes_than_codes() -> None:
    matching = best_assignment(np.array([[5, 1, 0], [0, 0, 4]]))
    assert matching.assignment == {0: 0, 1: 2} and matching.accuracy == pytest.approx(9 / 10)


def test_training_raises_the_mutual_information_estimate() -> None:
    """Learning evidence: Q learns to read the categorical code off G's images (the estimate rises toward ln K)."""
    spec = get_model("infogan")
    model = {**spec.tiny_config, "hidden": 64, "q_hidden": 32, "ngf": 8, "ndf": 8}
    config = resolve_config(spec, values={"model": model, "train": {"batch_size": 32, "device": "cpu", "seed": 0}})
    seed_everything(0)
    state = build_state(spec, config)
    before = mutual_information(spec, state, num=300)
    batches = synthetic_batches(state)
    logged = []
    for _ in range(150):
        logged.append(float(get_host().call("ganzoo_train_step", spec, state=state, batches=batches)["mi_estimate"]))
        state.step += 1
    after = mutual_information(spec, state, num=300)
    assert abs(before) < 0.05 and 0.2 < after <= math.log(3), (before, after)
    assert np.mean(logged[-20:]) > np.mean(logged[:20]) + 0.15


def test_code_accuracy_on_generated_and_real_images() -> None:
    spec = get_model("infogan")
    state = build_tiny_state("infogan")
    by_code = lambda images: torch.zeros(len(images), dtype=torch.long)  # noqa: E731 - a classifier seeing one class
    matching = generated_code_accuracy(spec, state, by_code, num_classes=3, per_code=5)
    assert matching.confusion.sum() == 15 and matching.accuracy == pytest.approx(1 / 3)
    images, labels = torch.rand(12, 1, 8, 8) * 2 - 1, torch.arange(12) % 3
    real = real_data_accuracy(state, images, labels, num_classes=3)
    assert real.confusion.sum() == 12 and 1 / 3 <= real.accuracy <= 1


def test_cli_samples_traversals_with_a_fixed_code(tmp_path, monkeypatch) -> None:
    """``ganzoo sample RUN --traverse c1=-2:2:8 --latent code=2``: the code holds, c1 sweeps the columns."""
    import ganzoo.sampling
    from PIL import Image

    from ganzoo.cli import main

    run = tmp_path / "run"
    tiny = [f"model.{key}={value}" for key, value in get_model("infogan").tiny_config.items()]
    assert main(["train", "infogan", "--steps", "1", "--batch-size", "4", "--device", "cpu", "--out", str(run),
                 "--no-progress", *[arg for item in tiny for arg in ("--set", item)]]) == 0
    seen = []
    original = ganzoo.sampling.sample_images

    def recording(state, num, **kwargs):
        seen.append({name: value.clone() for name, value in kwargs["latents"].items()})
        return original(state, num, **kwargs)

    monkeypatch.setattr(ganzoo.sampling, "sample_images", recording)
    out = tmp_path / "slant.png"
    assert main(["sample", str(run), "--traverse", "c1=-2:2:8", "--latent", "code=2", "--num", "16", "--out", str(out)]) == 0
    latents = seen[-1]
    assert latents["code"].tolist() == [2] * 16
    assert torch.allclose(latents["c1"].view(2, 8), torch.linspace(-2, 2, 8).repeat(2, 1))
    width, height = Image.open(out).size
    assert width > height  # 8 columns, 2 rows
    assert main(["sample", str(run), "--latent", "code=3", "--out", str(tmp_path / "bad.png")]) != 0  # Cat(3): 0..2


def test_shipped_digits_classifier_scores_real_digits() -> None:
    """The classify function used to score generated codes labels real digits as the benchmark pipeline would."""
    from ganzoo.data.digits import DigitsDataset
    from ganzoo_infogan.evaluation import shipped_classifier

    classify, num_classes = shipped_classifier("digits-cnn")
    digits = DigitsDataset("test", 28, 1).tensors  # resized to the classifier's 32 px inside
    predicted = classify(digits["image"][:200]).numpy()
    matching = best_assignment(confusion_matrix(predicted, digits["label"][:200].numpy(), num_classes, num_classes))
    assert num_classes == 10 and matching.accuracy > 0.9
    assert all(code == digit for code, digit in matching.assignment.items())
