"""The bench cache runs no code when loaded: safetensors files only, torch-fidelity's pickles never read."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from ganzoo.metrics import cache
from ganzoo.metrics.bench import load_target, resolve_protocol, run_benchmark

TINY_DCGAN = ["model.ngf=4", "model.ndf=4", "model.latent_dim=8"]
SMALL = {"num_samples": 12, "reference_size": 12, "kid_subsets": 2, "kid_subset_size": 6, "isc_splits": 2}


class _Exploit:
    """Unpickling this creates a marker file: proof that a cache file was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (Path.touch, (self.marker,))


def _bench(cache_root: Path) -> dict[str, float]:
    protocol, extractor = resolve_protocol("unconditional", "digits", None, None, **SMALL)
    target = load_target("dcgan", protocol, overrides=TINY_DCGAN)
    return run_benchmark(target, protocol, extractor, ("fid", "kid"), cache_root=cache_root, sample_grid=False).metrics


def test_cache_items_round_trip_without_pickle(tmp_path: Path) -> None:
    stats = {"mu": np.arange(3, dtype=np.float64), "sigma": np.eye(3)}
    cache.store(stats, tmp_path / "stat.safetensors")
    loaded = cache.load(tmp_path / "stat.safetensors")
    assert set(loaded) == {"mu", "sigma"} and all(isinstance(v, np.ndarray) for v in loaded.values())
    assert np.array_equal(loaded["sigma"], stats["sigma"]) and loaded["mu"].dtype == np.float64
    features = torch.randn(5, 4)
    cache.store(features, tmp_path / "features.safetensors")
    assert torch.equal(cache.load(tmp_path / "features.safetensors"), features)
    with pytest.raises(cache.CacheFormatError):
        cache.store({"anything": object()}, tmp_path / "other.safetensors")


def test_damaged_cache_files_are_misses(tmp_path: Path) -> None:
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    assert cache.load(tmp_path / "bad.safetensors") is None
    assert cache.load(tmp_path / "missing.safetensors") is None


def test_a_crafted_pt_file_in_the_cache_is_never_unpickled(tmp_path: Path) -> None:
    first = _bench(tmp_path)
    cached = [p for p in tmp_path.iterdir() if p.suffix in (".safetensors", ".pt")]
    marker = tmp_path / "exploited"
    for path in cached:  # torch-fidelity's own cache names, with its .pt suffix
        with open(path.with_suffix(".pt"), "wb") as handle:
            pickle.dump(_Exploit(marker), handle)
    second = _bench(tmp_path)
    assert not marker.exists()
    assert {p.suffix for p in cached} == {".safetensors"} and any("stat-fid" in p.name for p in cached)
    assert second == pytest.approx(first)  # and the safetensors cache was used (same statistics)
