"""ganzoo bench: metric correctness against independent computations, reproducibility, offline extractors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.linalg
import torch

from ganzoo.metrics.bench import (
    BenchTarget,
    extract_features,
    load_target,
    resolve_protocol,
    run_benchmark,
    split_metrics,
)
from ganzoo.metrics.classifier import read_card, sha256_file, weights_paths
from ganzoo.metrics.protocol import get_preset

TINY_DCGAN = ["model.ngf=8", "model.ndf=8", "model.latent_dim=16"]


@pytest.fixture(scope="module")
def small_digits():
    """The digits protocol shrunk for tests: 300 samples, KID on 10 subsets of 100."""
    return resolve_protocol("unconditional", "digits", num_samples=300, kid_subsets=10, kid_subset_size=100,
                            isc_splits=5)


@pytest.fixture(scope="module")
def untrained(small_digits) -> BenchTarget:
    protocol, _ = small_digits
    return load_target("dcgan", protocol, overrides=TINY_DCGAN)


def independent_fid(a: np.ndarray, b: np.ndarray) -> float:
    """FID from features with scipy's matrix square root (not torch-fidelity's eigenvalue shortcut)."""
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(cov_a @ cov_b)
    root = root.real if np.iscomplexobj(root) else root
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root))


def independent_kid(a: np.ndarray, b: np.ndarray, subsets: int, size: int, seed: int, degree: int = 3) -> float:
    """Mean unbiased MMD^2 with the polynomial kernel (x.y / d + 1)^3 over random subsets (KID)."""
    rng = np.random.RandomState(seed)
    kernel = lambda x, y: (x @ y.T / x.shape[1] + 1.0) ** degree  # noqa: E731
    values = []
    for _ in range(subsets):
        x = a[rng.choice(len(a), size, replace=False)].astype(np.float64)
        y = b[rng.choice(len(b), size, replace=False)].astype(np.float64)
        kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
        m = size
        mmd = ((kxx.sum() - np.trace(kxx)) + (kyy.sum() - np.trace(kyy))) / (m * (m - 1)) - 2 * kxy.mean()
        values.append(mmd)
    return float(np.mean(values))


@pytest.mark.parametrize(("name", "channels", "classes"), [("digits-cnn", 1, 10), ("shapes-cnn", 3, 12)])
def test_shipped_extractors_are_accurate_and_intact(name, channels, classes):
    card = read_card(name)
    weights, _ = weights_paths(name)
    assert card["heldout_accuracy"] >= 0.97
    assert (card["channels"], card["image_size"], card["num_classes"]) == (channels, 32, classes)
    assert sha256_file(weights) == card["sha256"]
    assert weights.stat().st_size < 1_000_000  # small enough to ship inside the package


def test_shapes_real_data_scores_well_under_its_protocol(tmp_path):
    pytest.importorskip("ganzoo.data.shapes")
    protocol, extractor = resolve_protocol("unconditional", "shapes", num_samples=300, kid_subsets=5,
                                           kid_subset_size=100, isc_splits=3)
    real = split_metrics(protocol, extractor, "train", ("isc", "fid"), cache_root=tmp_path)
    assert real["fid"] < 5.0
    assert real["isc"] > 8.0  # 12 balanced classes, confidently recognised


def test_real_data_fid_is_small_and_untrained_generator_fid_is_large(small_digits, untrained, tmp_path):
    protocol, extractor = small_digits
    real = split_metrics(protocol, extractor, "train", ("fid", "kid"), cache_root=tmp_path)
    fake = run_benchmark(untrained, protocol, extractor, ("fid", "kid"), cache_root=tmp_path, sample_grid=False)
    assert real["fid"] < 5.0
    assert fake.metrics["fid"] > 50 * max(real["fid"], 1.0)
    assert fake.metrics["kid"] > 10 * abs(real["kid"]) + 1.0


def test_fid_and_kid_match_independent_computation(small_digits, untrained, tmp_path):
    protocol, extractor = small_digits
    for source, reported in (
        ("train", split_metrics(protocol, extractor, "train", ("fid", "kid"), cache_root=tmp_path)),
        (untrained, run_benchmark(untrained, protocol, extractor, ("fid", "kid"), cache_root=tmp_path,
                                  sample_grid=False).metrics),
    ):
        generated, reference = extract_features(source, protocol, extractor)
        a, b = generated["features"].numpy(), reference["features"].numpy()
        assert reported["fid"] == pytest.approx(independent_fid(a, b), rel=1e-3, abs=1e-4)
        expected_kid = independent_kid(a, b, protocol.kid_subsets, protocol.kid_subset_size, protocol.seed)
        assert reported["kid"] == pytest.approx(expected_kid, rel=1e-3, abs=1e-5)


def test_fixed_seed_reproduces_numbers_and_reference_stats_are_cached(small_digits, tmp_path):
    protocol, extractor = small_digits
    first = run_benchmark(load_target("dcgan", protocol, overrides=TINY_DCGAN), protocol, extractor,
                          ("isc", "fid", "kid", "prc"), cache_root=tmp_path)
    cached = sorted(p.name for p in tmp_path.glob("*.safetensors"))
    assert any(protocol.digest() in name for name in cached)  # keyed by the protocol hash
    second = run_benchmark(load_target("dcgan", protocol, overrides=TINY_DCGAN), protocol, extractor,
                           ("isc", "fid", "kid", "prc"), cache_root=tmp_path)
    assert first.metrics == second.metrics
    assert sorted(p.name for p in tmp_path.glob("*.safetensors")) == cached
    other_seed, _ = resolve_protocol("unconditional", "digits", protocol, seed=1)
    third = run_benchmark(load_target("dcgan", other_seed, overrides=TINY_DCGAN), other_seed, extractor, ("fid",),
                          cache_root=tmp_path, sample_grid=False)
    assert third.metrics["fid"] != first.metrics["fid"]


def test_result_records_protocol_and_provenance(small_digits, untrained, tmp_path):
    protocol, extractor = small_digits
    result = run_benchmark(untrained, protocol, extractor, ("fid",), cache_root=tmp_path)
    assert result.protocol_hash == protocol.digest()
    assert result.protocol["weights_sha256"] == read_card("digits-cnn")["sha256"]
    assert result.metric_set == ["fid"] and set(result.metrics) == {"fid"}
    assert result.model == "dcgan" and result.plugin == "ganzoo-plugin-dcgan"
    assert result.config["model"]["ngf"] == 8 and len(result.config_hash) == 16
    assert result.checkpoint_hash.startswith("untrained-") and result.train_steps == 0
    assert result.hardware["device"] == "cpu"
    png = result.sample_png()
    assert png is not None and png.startswith(b"\x89PNG")
    json.loads(result.model_dump_json())


class _FakeState:
    """Just enough of GANState for the sampling wrapper: a conditional model with 10 classes."""

    def __init__(self) -> None:
        self.device = torch.device("cpu")
        self.spec = type("Spec", (), {"conditional": True, "name": "fake"})()
        self.model_config = type("Config", (), {"num_classes": 10})()

    def eval(self) -> None:
        pass


class _RecordingHost:
    def __init__(self) -> None:
        self.labels: list[torch.Tensor] = []

    def call(self, hook, spec, state, num, labels=None, generator=None, **kwargs):
        assert hook == "ganzoo_sample"
        self.labels.append(labels)
        return torch.zeros(num, 1, 16, 16)


def test_conditional_models_are_sampled_with_uniformly_spread_labels():
    from ganzoo.metrics.sampling import SampledModel

    host = _RecordingHost()
    model = SampledModel(_FakeState(), get_preset("digits"), host=host)  # type: ignore[arg-type]
    for batch in (64, 64, 72):
        images = model(torch.zeros(batch, 1))
        assert images.dtype == torch.uint8 and images.shape[1:] == (1, 32, 32)  # resized to the reference
    counts = torch.bincount(torch.cat(host.labels), minlength=10)
    assert counts.tolist() == [20] * 10
