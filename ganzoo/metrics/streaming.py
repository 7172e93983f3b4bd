"""Metrics of a model's samples in memory that does not grow with the number of samples.

torch-fidelity's ``calculate_metrics`` keeps every batch's feature tensors in a list until the end.  Those small
long-lived blocks land between the large per-batch temporaries of the generator and the extractor, so glibc's
heap can neither reuse nor return the space around them: peak RSS grew by ~30 KB per sample (N = 20,000 digits
samples: 1.5 GB for FID alone).  Here each batch's features are copied into tensors allocated once for all N
samples and every temporary of the batch is freed, so the heap returns to the same state after each batch.

Precision/recall uses the same 500 x 500 distance tiles as torch-fidelity's blocked k-NN, but keeps only each
row's ``k + 1`` smallest distances (and each row's "inside some radius" flag) instead of whole rows of N
distances.  Every metric value is bit-identical to ``torch_fidelity.calculate_metrics`` with the same inputs
and arguments (``tests/test_bench_streaming.py``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

import numpy as np
import torch
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.generative_model_base import GenerativeModelBase
from torch_fidelity.metric_fid import (
    fid_featuresdict_to_statistics,
    fid_featuresdict_to_statistics_cached,
    fid_input_id_to_statistics_cached,
    fid_statistics_to_metric,
)
from torch_fidelity.metric_isc import isc_featuresdict_to_metric
from torch_fidelity.metric_kid import kid_featuresdict_to_metric
from torch_fidelity.metric_prc import KEY_METRIC_F_SCORE, KEY_METRIC_PRECISION, KEY_METRIC_RECALL
from torch_fidelity.registry import NOISE_SOURCE_REGISTRY
from torch_fidelity.utils import (
    create_feature_extractor,
    extract_featuresdict_from_input_id_cached,
    get_cacheable_input_name,
)


def stream_features(
    model: GenerativeModelBase, net: FeatureExtractorBase, num_samples: int, batch_size: int, cuda: bool,
    rng_seed: int, prefetch: bool | None = None,
) -> dict[str, torch.Tensor]:
    """Features of ``num_samples`` samples of ``model``, batch by batch, into CPU tensors allocated once.

    The same noise, batches and extractor calls as torch-fidelity's ``get_featuresdict_from_generative_model``
    (so the same values); only where the features are kept differs.  ``prefetch`` (default: on CUDA, or when
    torch uses fewer threads than there are cores) draws the next batch in a second thread while the extractor
    runs: the model is still called in order from one thread, so its random numbers and outputs are unchanged.
    """
    if model.num_classes > 0:
        raise ValueError("stream_features draws no class labels: a conditional model chooses its own labels")
    if prefetch is None:
        prefetch = cuda or torch.get_num_threads() < (os.cpu_count() or 1)
    batch_size = min(batch_size, num_samples)
    starts = list(range(0, num_samples, batch_size))
    rng = np.random.RandomState(rng_seed)

    def draw(start: int) -> torch.Tensor:
        noise = NOISE_SOURCE_REGISTRY[model.z_type](rng, (min(batch_size, num_samples - start), model.z_size))
        with torch.no_grad():  # grad mode is per thread
            return model(noise.cuda(non_blocking=True) if cuda else noise)

    found: dict[str, torch.Tensor] = {}
    if cuda:
        model.cuda()
    with ThreadPoolExecutor(max_workers=1) as pool, torch.no_grad():
        pending = pool.submit(draw, starts[0]) if prefetch else None
        for index, start in enumerate(starts):
            images = pending.result() if pending is not None else draw(start)
            if prefetch and index + 1 < len(starts):
                pending = pool.submit(draw, starts[index + 1])
            batch = net.convert_features_tuple_to_dict(net(images))
            for name, values in batch.items():
                if name not in found:
                    found[name] = torch.empty((num_samples, *values.shape[1:]), dtype=values.dtype)
                found[name][start:start + values.size(0)].copy_(values)
            del images, batch
    return found


def _smallest(distances: torch.Tensor, kept: torch.Tensor | None, count: int) -> torch.Tensor:
    """The ``count`` smallest values of each row of ``distances`` and ``kept`` together (unordered)."""
    joined = distances if kept is None else torch.cat([kept, distances], dim=1)
    return joined.topk(min(count, joined.size(1)), dim=1, largest=False).values


def _kth_neighbour_distances(features: torch.Tensor, neighborhood: int, block: int) -> torch.Tensor:
    """Each row's distance to its ``neighborhood``-th nearest other row (torch-fidelity's radius)."""
    radii = []
    for rows in features.split(block):
        kept = None
        for columns in features.split(block):
            kept = _smallest(torch.cdist(rows, columns).cpu(), kept, neighborhood + 1)
        radii.append(kept.kthvalue(neighborhood + 1).values)
    return torch.cat(radii)


def _inside_any_radius(queries: torch.Tensor, points: torch.Tensor, radii: torch.Tensor, block: int) -> torch.Tensor:
    """For each query row: is it within ``radii[j]`` of some ``points[j]``? (0/1 floats)."""
    inside = []
    for rows in queries.split(block):
        hit = torch.zeros(rows.size(0), dtype=torch.bool)
        for columns, columns_radii in zip(points.split(block), radii.split(block)):
            hit |= (torch.cdist(rows, columns).cpu() <= columns_radii).any(dim=1)
        inside.append(hit.float())
    return torch.cat(inside)


def precision_recall(features_1: torch.Tensor, features_2: torch.Tensor, neighborhood: int,
                     block: int) -> dict[str, float]:
    """Improved precision / recall (Kynkäänniemi et al. 2019) in memory ``O(block^2)``.

    Exactly torch-fidelity's ``calculate_precision_recall_part`` with ``batch_size=block``: the same distance
    tiles, and the k-th smallest value of a row is the k-th smallest of the per-tile ``k`` smallest.
    """
    radii_1 = _kth_neighbour_distances(features_1, neighborhood, block)
    recall = _inside_any_radius(features_2, features_1, radii_1, block).mean().item()
    radii_2 = _kth_neighbour_distances(features_2, neighborhood, block)
    precision = _inside_any_radius(features_1, features_2, radii_2, block).mean().item()
    return {
        KEY_METRIC_PRECISION: precision,
        KEY_METRIC_RECALL: recall,
        KEY_METRIC_F_SCORE: 2 * precision * recall / max(1e-5, precision + recall),
    }


def model_metrics(model: GenerativeModelBase, num_samples: int, metrics: Sequence[str], extra_layers: Sequence[str] = (),
                  **fidelity: Any) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """``torch_fidelity.calculate_metrics(input1=model, ...)`` for ``metrics`` (a subset of isc, fid, kid, prc), in
    constant memory; returns the values and the generated samples' features (per extractor layer).

    ``fidelity``: torch-fidelity keyword arguments (``input2`` the registered reference, the feature extractor,
    the metric parameters, ``prc_batch_size`` the tile size); the reference side keeps torch-fidelity's cache.
    ``extra_layers``: extractor layers to compute as well (returned with the others, for other metrics).
    """
    fidelity = {**fidelity, "input1": model, "input1_model_num_samples": num_samples}
    layers = {name: _feature_layer(name, fidelity["feature_extractor"]) for name in metrics}
    net = create_feature_extractor(fidelity["feature_extractor"], sorted({*layers.values(), *extra_layers}), **fidelity)
    generated = stream_features(model, net, num_samples, fidelity["batch_size"], fidelity["cuda"],
                                fidelity["rng_seed"])
    values: dict[str, float] = {}
    if "isc" in metrics:
        values.update(isc_featuresdict_to_metric(generated, layers["isc"], **fidelity))
    binary = [name for name in metrics if name != "isc"]
    if binary == ["fid"]:  # the reference's statistics alone (cached), as torch-fidelity's FID-only path
        reference_stats = fid_input_id_to_statistics_cached(2, net, layers["fid"], **fidelity)
        values.update(fid_statistics_to_metric(fid_featuresdict_to_statistics(generated, layers["fid"]),
                                               reference_stats, False))
        return values, generated
    if not binary:
        return values, generated
    reference = extract_featuresdict_from_input_id_cached(2, net, **fidelity)
    if "fid" in metrics:
        reference_stats = fid_featuresdict_to_statistics_cached(
            reference, get_cacheable_input_name(2, **fidelity), net, layers["fid"], **fidelity)
        values.update(fid_statistics_to_metric(fid_featuresdict_to_statistics(generated, layers["fid"]),
                                               reference_stats, False))
    if "kid" in metrics:
        values.update(kid_featuresdict_to_metric(generated, reference, layers["kid"], **fidelity))
    if "prc" in metrics:
        values.update(precision_recall(generated[layers["prc"]], reference[layers["prc"]],
                                       fidelity["prc_neighborhood"], fidelity["prc_batch_size"]))
    return values, generated


def _feature_layer(metric: str, extractor: str) -> str:
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

    return FEATURE_EXTRACTORS_REGISTRY[extractor].get_default_feature_layer_for_metric(metric)
