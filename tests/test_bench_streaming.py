"""ganzoo's constant-memory metric pass gives exactly torch-fidelity's values, and keeps no per-batch blocks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch_fidelity

from ganzoo.metrics.bench import load_target, model_input, resolve_protocol
from ganzoo.metrics.reference import fidelity_kwargs, register_reference
from ganzoo.metrics.streaming import model_metrics, precision_recall

TINY_DCGAN = ["model.ngf=4", "model.ndf=4", "model.latent_dim=8"]
# 130 samples in batches of 50 (a short last batch), precision/recall tiles of 40 rows (several per side)
SMALL = {"num_samples": 130, "batch_size": 50, "reference_size": 90, "kid_subsets": 3, "kid_subset_size": 40,
         "isc_splits": 2}


def _fidelity_setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    protocol, extractor = resolve_protocol("unconditional", "digits", None, None, **SMALL)
    kwargs = dict(input2=register_reference(protocol), feature_extractor=extractor.registry_name,
                  feature_extractor_weights_path=extractor.weights_path,
                  **fidelity_kwargs(protocol, tmp_path, torch.device("cpu"), False))
    kwargs["prc_batch_size"] = 40
    return protocol, kwargs


@pytest.mark.parametrize("metrics", [("isc", "fid", "kid", "prc"), ("fid",)])
def test_values_are_torch_fidelitys_exactly(tmp_path: Path, metrics: tuple[str, ...]) -> None:
    protocol, kwargs = _fidelity_setup(tmp_path)
    values = {}
    for name, cache in (("ganzoo", tmp_path / "a"), ("fidelity", tmp_path / "b")):
        target = load_target("dcgan", protocol, overrides=TINY_DCGAN)
        source = model_input(target, protocol)
        run = {**kwargs, "cache_root": str(cache)}
        if name == "ganzoo":
            values[name] = model_metrics(source, protocol.num_samples, metrics, **run)
        else:
            values[name] = torch_fidelity.calculate_metrics(
                input1=source, input1_model_num_samples=protocol.num_samples,
                **{m: m in metrics for m in ("isc", "fid", "kid", "prc")}, **run)
    assert set(values["ganzoo"]) == set(values["fidelity"]) and len(values["ganzoo"]) >= 1
    for key, expected in values["fidelity"].items():
        assert float(values["ganzoo"][key]) == float(expected), key  # bit-identical, not approximately


def test_tiled_precision_recall_matches_full_rows() -> None:
    from torch_fidelity.metric_prc import calculate_precision_recall_part

    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(203, 8, generator=generator), torch.randn(157, 8, generator=generator) * 1.3 + 0.2
    precision, recall = calculate_precision_recall_part(fake, real, 3, 25)
    ours = precision_recall(fake, real, 3, 25)
    assert (ours["precision"], ours["recall"]) == (precision, recall)
    assert 0 < ours["precision"] < 1 and 0 < ours["recall"] < 1


