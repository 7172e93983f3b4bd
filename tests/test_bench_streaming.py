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
            values[name] = model_metrics(source, protocol.num_samples, metrics, **run)[0]
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




def test_class_metrics_from_the_pass_equal_those_of_kept_images(tmp_path: Path) -> None:
    """A conditional model's intra-FID / class accuracy come from the benchmark pass's features; they equal the
    values computed from the uint8 sample images themselves (what the pass used to keep)."""
    from ganzoo.metrics.bench import run_benchmark
    from ganzoo.metrics.conditional import class_metrics
    from ganzoo.metrics.sampling import SampledModel

    protocol, extractor = resolve_protocol("class-conditional", "digits", None, None, num_samples=130, batch_size=50,
                                           kid_subset_size=40, isc_splits=2)
    tiny = ["model.ngf=4", "model.ndf=4", "model.latent_dim=8", "model.shared_dim=4"]
    target = load_target("biggan-lite", protocol, overrides=tiny)
    result = run_benchmark(target, protocol, extractor, ("fid",), cache_root=tmp_path, sample_grid=False)
    source = SampledModel(load_target("biggan-lite", protocol, overrides=tiny).state, protocol)
    batches: list[tuple[torch.Tensor, torch.Tensor]] = []
    with torch.no_grad():  # the uint8 images torch-fidelity is handed, batch by batch, with their labels
        for start in range(0, protocol.num_samples, protocol.batch_size):
            images = source(torch.zeros(min(protocol.batch_size, protocol.num_samples - start), 1))
            batches.append((images, source.last_labels.cpu()))
    images, labels = (torch.cat(parts) for parts in zip(*batches))
    expected = class_metrics(images, labels, protocol, extractor, 10, "cpu", tmp_path)
    assert "intra_fid" in expected and "class_accuracy" in expected
    assert {key: result.metrics[key] for key in expected} == expected
