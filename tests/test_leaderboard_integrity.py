"""What makes a leaderboard trustworthy: reference data identified by content, one entry per checkpoint,
no ranking of runs scored on their own training images, versions in provenance, device-independent noise,
presets recognised by value, and the KID caveat documented."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.cli import main
from ganzoo.leaderboard import DuplicateResultError, Leaderboard
from ganzoo.metrics.bench import bench, resolve_protocol
from ganzoo.metrics.protocol import get_preset

from .test_leaderboard import fake_result

ROOT = Path(__file__).resolve().parents[1]
TINY = ["model.ngf=4", "model.ndf=4", "model.latent_dim=8"]
SMALL = {"num_samples": 20, "kid_subset_size": 10, "kid_subsets": 2, "isc_splits": 2}


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GANZOO_LEADERBOARD_DB", str(tmp_path / "board.sqlite"))
    return tmp_path


def _write_images(folder: Path, seed: int, count: int = 24) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        pixels = (rng.random((16, 16)) * 255 * (0.2 + 0.8 * seed % 2)).astype(np.uint8)
        Image.fromarray(pixels, mode="L").save(folder / f"{index:03d}.png")


def test_replaced_reference_images_change_the_protocol_and_its_statistics(env):
    """Issue 11.1: the same folder name with other images is another protocol, never the cached statistics."""
    folder = env / "faces" / "test"
    _write_images(folder, seed=1)
    options = dict(protocol="digits", dataset=str(env / "faces"), metrics="fid", overrides=TINY, **SMALL)
    first = bench("dcgan", **options)
    _write_images(folder, seed=2)
    second = bench("dcgan", **options)
    assert first.protocol["reference_sha256"] != second.protocol["reference_sha256"]
    assert first.protocol_hash != second.protocol_hash
    assert first.metrics["fid"] != pytest.approx(second.metrics["fid"])
    _write_images(folder, seed=1)  # the original images again: the original protocol and numbers
    third = bench("dcgan", **options)
    assert third.protocol_hash == first.protocol_hash and third.metrics["fid"] == pytest.approx(first.metrics["fid"])


def test_a_protocol_pinning_other_reference_data_is_refused(env):
    folder = env / "faces" / "test"
    _write_images(folder, seed=1)
    protocol, _ = resolve_protocol("unconditional", str(env / "faces"), "digits", **SMALL)
    _write_images(folder, seed=2)
    with pytest.raises(ValueError, match=r"pins reference data .*\(the data changed\)"):
        resolve_protocol("unconditional", str(env / "faces"), protocol)


def test_metrics_recorded_later_join_the_checkpoints_entry(tmp_path):
    """Issue 11.2: one checkpoint is one entry per protocol."""
    board = Leaderboard(tmp_path / "board.sqlite")
    first = board.record(fake_result(metric_set=("fid",)))
    later = fake_result(metric_set=("isc",))
    later["metrics"] = {"isc": 7.5}
    board.record(later)
    [entry] = board.entries()
    assert entry.id == first and entry.metrics == {"fid": 10.0, "kid": 0.01, "isc": 7.5}
    assert entry.metric_set == ["fid", "isc"]
    with pytest.raises(DuplicateResultError, match=rf"entry #{first} .*fid cannot be recorded again"):
        board.record(fake_result(metric_set=("fid", "kid")))
    board.record(fake_result(checkpoint="other", metric_set=("fid",)))  # another checkpoint: its own entry
    assert [e.checkpoint_hash for e in board.entries()] == ["c0", "other"]


def test_bench_twice_with_more_metrics_gives_one_row(env, capsys, tmp_path):
    from ganzoo.trainer import train

    run = tmp_path / "run"
    train("dcgan", run, dataset="digits", steps=1, batch_size=4, progress=False,
          model_config={"image_size": 16, "channels": 1, "ngf": 4, "ndf": 4, "latent_dim": 8})
    small = ["--num-samples", "20", "--set-protocol", "kid_subset_size=10", "--set-protocol", "kid_subsets=2"]
    assert main(["bench", str(run), "--metrics", "fid", *small, "--record"]) == 0
    assert main(["bench", str(run), "--metrics", "fid,kid", *small, "--record"]) == 2
    assert "fid cannot be recorded again" in capsys.readouterr().err
    assert main(["bench", str(run), "--metrics", "kid", *small, "--record"]) == 0
    capsys.readouterr()
    assert main(["leaderboard", "--format", "json"]) == 0
    [group] = json.loads(capsys.readouterr().out)
    [entry] = group["entries"]
    assert {"fid", "kid"} <= set(entry["metrics"]) and entry["metric_set"] == ["fid", "kid"]


def test_a_run_trained_on_the_reference_split_is_refused(env, capsys, tmp_path):
    """Issue 11.3: training on the protocol's held-out split cannot be recorded, and says why."""
    run = tmp_path / "cheat"
    assert main(["train", "dcgan", "--steps", "1", "--batch-size", "4", "--no-progress", "--out", str(run),
                 "--set", "data.split=test", "--set", "model.image_size=16", "--set", "model.channels=1",
                 *(arg for setting in TINY for arg in ("--set", setting))]) == 0
    small = ["--num-samples", "20", "--set-protocol", "kid_subset_size=10"]
    assert main(["bench", str(run), "--metrics", "fid", *small, "--record"]) == 2
    err = capsys.readouterr().err
    assert "trained on digits/test" in err and "360 of the 360 reference images" in err
    assert Leaderboard(env / "board.sqlite").entries() == []
    assert main(["bench", str(run), "--metrics", "fid", *small, "--json"]) == 0  # measuring alone is fine
    assert json.loads(capsys.readouterr().out)["training_overlap"] == 360
    from ganzoo.leaderboard import IneligibleResultError

    ineligible = fake_result()
    ineligible.update(training_overlap=50, reference_size=360)
    with pytest.raises(IneligibleResultError, match="50 of the 360 reference images"):
        Leaderboard(env / "other.sqlite").record(ineligible)


def test_provenance_names_the_metric_software_versions(env):
    """Issue 11.4: the numbers depend on torch-fidelity's and ganzoo's implementations."""
    import torch_fidelity

    from ganzoo._version import __version__

    result = bench("dcgan", metrics="fid", overrides=TINY, **SMALL)
    assert result.hardware["torch_fidelity"] == torch_fidelity.__version__
    assert result.hardware["ganzoo"] == __version__ and result.hardware["torch"] == torch.__version__


class _StateOn:
    """Just enough of GANState for the sampling wrapper, on a device that has no generator of its own."""

    def __init__(self, device: str) -> None:
        self.device = torch.device(device)
        self.spec = type("Spec", (), {"conditional": False, "name": "fake"})()


def test_sampling_noise_is_drawn_on_the_cpu_for_every_device():
    """Issue 11.4: one protocol hash means one set of latents (CUDA's generator would give others)."""
    from ganzoo.metrics.sampling import SampledModel
    from ganzoo.state import build_state
    from ganzoo.config import resolve_config
    from ganzoo.plugins import get_host

    model = SampledModel(_StateOn("meta"), get_preset("digits"), host=object())  # type: ignore[arg-type]
    assert model.generator.device.type == "cpu"
    host = get_host()
    spec = host.get_model("dcgan")
    state = build_state(spec, resolve_config(spec, overrides=TINY), device="cpu", host=host)
    state.device = torch.device("meta")
    noise = state.noise(5, torch.Generator().manual_seed(3))
    assert noise.device.type == "meta" and noise.shape == (5, 8)  # drawn with the CPU generator, then moved
    state.device = torch.device("cpu")
    assert torch.equal(state.noise(5, torch.Generator().manual_seed(3)), torch.randn(5, 8, generator=torch.Generator().manual_seed(3)))


def test_settings_equal_to_a_preset_are_that_preset(env):
    """Issue 11.5: no ``-custom`` table for a value the preset already has."""
    preset, _ = resolve_protocol("unconditional", "digits")
    whole, _ = resolve_protocol("unconditional", "digits", reference_size=360)
    assert (whole.name, whole.digest(), whole.reference_size) == ("digits", preset.digest(), None)
    beyond, _ = resolve_protocol("unconditional", "digits", reference_size=5000)
    assert beyond.digest() == preset.digest()
    assert get_preset("digits").with_changes(num_samples=1000, seed=0).name == "digits"
    part, _ = resolve_protocol("unconditional", "digits", reference_size=100)
    assert part.name == "digits-custom" and part.digest() != preset.digest()
    assert part.with_changes(num_samples=500).with_changes(num_samples=1000).name == "digits-custom"
    assert get_preset("digits").with_changes(num_samples=500).with_changes(num_samples=1000).name == "digits"


def test_docs_say_kid_on_64d_features_is_on_another_scale():
    """Issue 11.6: KID from the shipped 64-d classifiers is comparable only within its protocol."""
    from ganzoo.metrics.extractors import resolve_extractor

    text = (ROOT / "docs" / "benchmarking.md").read_text(encoding="utf-8")
    section = text[text.index("### Why KID here is not Inception KID"):]
    section = section[: section.index("\n## ")]
    assert "64-d" in section and "2048-d" in section and "only within one protocol" in section
    extractor = resolve_extractor("ganzoo-digits-cnn")
    features, _ = extractor_outputs(extractor)
    assert features == 64  # the dimension the docs state


def extractor_outputs(extractor) -> tuple[int, int]:
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

    cls = FEATURE_EXTRACTORS_REGISTRY[extractor.registry_name]
    net = cls(extractor.registry_name, ["features", "logits"], feature_extractor_weights_path=extractor.weights_path)
    features, logits = net(torch.zeros(2, 1, 32, 32, dtype=torch.uint8))
    return features.shape[1], logits.shape[1]
