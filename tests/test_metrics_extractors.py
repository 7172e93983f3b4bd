"""Feature extractors whose weights cannot be downloaded here: InceptionV3 and timm backbones."""

from __future__ import annotations

import pytest
import torch

from ganzoo.metrics import extractors
from ganzoo.metrics.bench import load_target, resolve_protocol, run_benchmark
from ganzoo.metrics.classifier import sha256_file
from ganzoo.metrics.extractors import INCEPTION_FILE, ExtractorError, find_inception_weights, resolve_extractor

TINY_DCGAN = ["model.ngf=4", "model.ndf=4", "model.latent_dim=8"]
# a few images only: these tests check the plumbing, not the metric values
SMALL = {"num_samples": 12, "reference_size": 12, "kid_subsets": 2, "kid_subset_size": 6, "isc_splits": 2}


@pytest.fixture(autouse=True)
def _no_inception_env(monkeypatch, tmp_path):
    monkeypatch.delenv(extractors.INCEPTION_WEIGHTS_ENV, raising=False)
    monkeypatch.delenv(extractors.INCEPTION_HASH_ENV, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))  # an empty hub cache


@pytest.fixture(scope="module")
def random_inception(tmp_path_factory) -> str:
    """torch-fidelity's InceptionV3 architecture with random weights, saved like the official file."""
    from torch_fidelity import feature_extractor_inceptionv3 as module

    with pytest.MonkeyPatch.context() as patch:  # build the architecture without fetching or loading weights
        patch.setattr(module, "load_state_dict_from_url", lambda *a, **k: {})
        patch.setattr(module.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state, *a, **k: None)
        torch.manual_seed(0)
        net = module.FeatureExtractorInceptionV3("inception-v3-compat", ["2048"])
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(net.state_dict(), path)
    return str(path)


def test_missing_inception_weights_say_which_file_goes_where(tmp_path):
    with pytest.raises(ExtractorError) as info:
        find_inception_weights()
    message = str(info.value)
    assert INCEPTION_FILE in message
    assert str(tmp_path / "torch-home" / "hub" / "checkpoints") in message
    assert "https://github.com/toshas/torch-fidelity/releases/download/" in message
    assert "--weights" in message


def test_inception_weights_with_wrong_hash_are_rejected(random_inception):
    with pytest.raises(ExtractorError, match="not the official InceptionV3 file"):
        find_inception_weights(random_inception)


def test_inception_weights_are_found_in_the_hub_cache(random_inception, tmp_path, monkeypatch):
    hub_file = tmp_path / "torch-home" / "hub" / "checkpoints" / INCEPTION_FILE
    hub_file.parent.mkdir(parents=True)
    hub_file.symlink_to(random_inception)
    digest = sha256_file(random_inception)
    monkeypatch.setenv(extractors.INCEPTION_HASH_ENV, digest)
    assert find_inception_weights() == (hub_file, digest)


def test_inception_weights_need_the_full_sha256_not_its_prefix(random_inception, monkeypatch):
    digest = sha256_file(random_inception)
    # a file that shares the published 8-digit prefix but is not the official file (prefix collisions are cheap)
    monkeypatch.setattr(extractors, "INCEPTION_SHA256_PREFIX", digest[:8])
    monkeypatch.setattr(extractors, "INCEPTION_SHA256", digest[:8] + "0" * 56, raising=False)
    with pytest.raises(ExtractorError, match="not the official InceptionV3 file"):
        find_inception_weights(random_inception)
    monkeypatch.setenv(extractors.INCEPTION_HASH_ENV, digest[:8])
    with pytest.raises(ExtractorError, match="not a full sha256"):
        find_inception_weights(random_inception)


def test_bench_with_inception_weights_from_a_file(random_inception, monkeypatch, tmp_path):
    digest = sha256_file(random_inception)
    monkeypatch.setenv(extractors.INCEPTION_HASH_ENV, digest)  # the hash override tests need
    # InceptionV3 at 299 px is slow on a CPU: four images per side are enough to exercise the path
    tiny = {**SMALL, "num_samples": 4, "reference_size": 4, "kid_subset_size": 2}
    protocol, extractor = resolve_protocol("unconditional", "digits", None, random_inception,
                                           feature_extractor="inception-v3-compat", **tiny)
    assert protocol.weights_sha256 == digest
    target = load_target("dcgan", protocol, overrides=TINY_DCGAN)
    result = run_benchmark(target, protocol, extractor, ("fid", "kid"), cache_root=tmp_path, sample_grid=False)
    assert result.protocol["feature_extractor"] == "inception-v3-compat"
    assert result.metrics["fid"] > 0 and "kid" in result.metrics


@pytest.fixture(scope="module")
def random_timm(tmp_path_factory) -> str:
    import timm
    from safetensors.torch import save_file

    torch.manual_seed(0)
    net = timm.create_model("test_resnet", pretrained=False)
    path = tmp_path_factory.mktemp("timm") / "test_resnet.safetensors"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path))
    return str(path)


def test_bench_with_a_timm_backbone(random_timm, tmp_path):
    protocol, extractor = resolve_protocol("unconditional", "digits", None, random_timm,
                                           feature_extractor="timm:test_resnet", **SMALL)
    assert protocol.weights_sha256 == sha256_file(random_timm)
    target = load_target("dcgan", protocol, overrides=TINY_DCGAN)
    result = run_benchmark(target, protocol, extractor, ("isc", "fid"), cache_root=tmp_path, sample_grid=False)
    assert result.metrics["fid"] >= 0 and result.metrics["isc"] >= 1.0


def test_timm_without_local_weights_is_a_clear_error(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(ExtractorError, match="--weights PATH") as info:
        resolve_extractor("timm:resnet18")
    assert "timm/resnet18" in str(info.value)
    with pytest.raises(ExtractorError, match="unknown timm model"):
        resolve_extractor("timm:resnet18x")


def test_unknown_extractor_lists_the_known_ones():
    with pytest.raises(ExtractorError, match="ganzoo-digits-cnn"):
        resolve_extractor("vgg99")
