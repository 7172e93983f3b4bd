"""Class-conditional evaluation: balanced labels, intra-FID, class accuracy of samples, truncation sweeps.

Under every protocol a class-conditional model's sample ``i`` has class ``i mod K`` (:func:`balanced_labels`),
so each class gets the same number of samples and the labels are reproducible.  :func:`class_metrics` scores
the samples of the benchmark pass per class:

* intra-FID (Miyato & Koyama 2018): the FID between the samples of class ``k`` and the reference images of class
  ``k`` in the protocol's feature space, averaged over classes (``intra_fid``; per class ``intra_fid_<k>``);
* class accuracy: how often the protocol's classifier (a shipped ganzoo CNN whose classes are the dataset's,
  e.g. ``ganzoo-digits-cnn``) recognises a sample of class ``k`` as ``k`` (``class_accuracy``, per class
  ``class_accuracy_<k>``).  Feature extractors with other classes (Inception's ImageNet logits) give none.

:func:`truncation_sweep` benchmarks one target at several truncation thresholds (BigGAN's IS/FID trade-off).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from ganzoo.metrics.extractors import ResolvedExtractor
from ganzoo.metrics.protocol import Protocol
from ganzoo.metrics.reference import load_split, reference_images

BALANCED = "balanced: sample i has class i mod num_classes"
"""How a class-conditional model's labels are chosen under a protocol (recorded with every result)."""
CONDITIONAL_METRIC = "conditional"
"""The companion entry of ``metric_set`` that says a result carries intra-FID / class-accuracy values."""
MIN_PER_CLASS = 2


def balanced_labels(start: int, num: int, num_classes: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Labels of samples ``start .. start + num - 1``: sample ``i`` has class ``i mod num_classes``."""
    return torch.arange(start, start + num, device=device) % num_classes


def extractor_layers(extractor: ResolvedExtractor) -> dict[str, str]:
    """The extractor layers the class metrics read: ``features`` (the FID layer) and ``logits`` (the IS layer)."""
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

    cls = FEATURE_EXTRACTORS_REGISTRY[extractor.registry_name]
    return {"features": cls.get_default_feature_layer_for_metric("fid"),
            "logits": cls.get_default_feature_layer_for_metric("isc")}


def _features(images: torch.Tensor, protocol: Protocol, extractor: ResolvedExtractor,
              device: torch.device) -> dict[str, torch.Tensor]:
    """``features`` (the FID layer) and ``logits`` (the IS layer) of uint8 images, as torch-fidelity computes them."""
    from torch_fidelity.utils import create_feature_extractor

    layers = extractor_layers(extractor)
    cuda = device.type == "cuda"
    net = create_feature_extractor(extractor.registry_name, sorted(set(layers.values())), cuda=cuda,
                                   feature_extractor_weights_path=extractor.weights_path, verbose=False)
    found: dict[str, list[torch.Tensor]] = {}
    with torch.no_grad():
        for start in range(0, len(images), protocol.batch_size):
            batch = images[start:start + protocol.batch_size]
            output = net.convert_features_tuple_to_dict(net(batch.cuda() if cuda else batch))
            for key, value in output.items():
                found.setdefault(key, []).append(value.cpu())
    return {name: torch.cat(found[layer]) for name, layer in layers.items()}


def reference_labels(protocol: Protocol) -> torch.Tensor:
    """The class label of every reference image of ``protocol``, in the order the metrics read them."""
    images = reference_images(protocol)
    items = load_split(protocol)
    tensors = getattr(items, "tensors", None)
    if isinstance(tensors, dict) and "label" in tensors:
        return torch.as_tensor(tensors["label"][: len(images)]).long()
    return torch.tensor([int(items[index]["label"]) for index in range(len(images))])  # type: ignore[index]


def frechet_distance(first: torch.Tensor, second: torch.Tensor) -> float:
    """FID between two feature sets, with torch-fidelity's statistics and (robust) matrix square root."""
    from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_features_to_statistics, fid_statistics_to_metric

    stats = [fid_features_to_statistics(features.double()) for features in (first, second)]
    return float(fid_statistics_to_metric(stats[0], stats[1], False)[KEY_METRIC_FID])


def classifier_classes(protocol: Protocol, logits: torch.Tensor) -> int | None:
    """How many classes the protocol's classifier tells apart, when it is a ganzoo classifier of the dataset's
    classes (its logits can then judge a sample's class); ``None`` otherwise (e.g. Inception's 1008 logits)."""
    return int(logits.shape[1]) if protocol.feature_extractor.startswith("ganzoo-") else None


def reference_class_features(protocol: Protocol, extractor: ResolvedExtractor, device: torch.device,
                             cache_root: str | os.PathLike[str] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(features, labels)`` of the protocol's reference images, cached per protocol hash under ``cache_root``
    (safetensors, like the rest of the bench cache; a damaged file is recomputed)."""
    from ganzoo.metrics.cache import decode, encode
    from ganzoo.fileio import atomic_write_bytes

    path = Path(cache_root) / f"class-features-{protocol.digest()}.safetensors" if cache_root else None
    if path is not None and path.is_file():
        try:
            cached = decode(path.read_bytes())
            return cached["features"], cached["labels"]
        except Exception:  # noqa: BLE001 - any damaged or foreign file (safetensors raises its own error types)
            pass  # recomputed and rewritten below
    images = torch.stack([image for image in reference_images(protocol)])
    features, labels = _features(images, protocol, extractor, device)["features"], reference_labels(protocol)
    if path is not None:
        atomic_write_bytes(path, encode({"features": features, "labels": labels}))
    return features, labels


def class_metrics(images: torch.Tensor, labels: torch.Tensor, protocol: Protocol, extractor: ResolvedExtractor,
                  num_classes: int, device: torch.device | str = "cpu",
                  cache_root: str | os.PathLike[str] | None = None) -> dict[str, float]:
    """Intra-FID and class accuracy of generated uint8 ``images`` of classes ``labels`` (see the module doc).

    Classes with fewer than two samples or reference images get no intra-FID.  Returns ``intra_fid``,
    ``intra_fid_<k>`` and, with a classifier of ``num_classes`` classes, ``class_accuracy`` and
    ``class_accuracy_<k>``.  The reference features are cached under ``cache_root`` when given.
    """
    generated = _features(images, protocol, extractor, torch.device(device))
    return class_metrics_of_features(generated, labels, protocol, extractor, num_classes, device, cache_root)


def class_metrics_of_features(generated: Mapping[str, torch.Tensor], labels: torch.Tensor, protocol: Protocol,
                              extractor: ResolvedExtractor, num_classes: int, device: torch.device | str = "cpu",
                              cache_root: str | os.PathLike[str] | None = None) -> dict[str, float]:
    """:func:`class_metrics` of samples whose ``features`` and ``logits`` (:func:`extractor_layers`) are already
    computed (the benchmark pass computes them once, so no sample image is kept)."""
    device = torch.device(device)
    reference_features, real_labels = reference_class_features(protocol, extractor, device, cache_root)
    reference = {"features": reference_features}
    values: dict[str, float] = {}
    distances = []
    for k in range(num_classes):
        fake_k, real_k = generated["features"][labels == k], reference["features"][real_labels == k]
        if min(len(fake_k), len(real_k)) >= MIN_PER_CLASS:
            values[f"intra_fid_{k}"] = frechet_distance(fake_k, real_k)
            distances.append(values[f"intra_fid_{k}"])
    if distances:
        values["intra_fid"] = float(np.mean(distances))
    if classifier_classes(protocol, generated["logits"]) == num_classes:
        correct = generated["logits"].argmax(dim=1) == labels
        accuracies = {k: correct[labels == k].float().mean().item() for k in range(num_classes) if (labels == k).any()}
        values.update({f"class_accuracy_{k}": accuracy for k, accuracy in accuracies.items()})
        values["class_accuracy"] = float(np.mean(list(accuracies.values())))
    return values


def split_per_class(metrics: Mapping[str, float]) -> tuple[dict[str, float], dict[str, list[tuple[int, float]]]]:
    """``(headline metrics, {"intra_fid": [(class, value), ...], ...})``: per-class values apart, for printing."""
    headline: dict[str, float] = {}
    per_class: dict[str, list[tuple[int, float]]] = {}
    for key, value in metrics.items():
        name, _, suffix = key.rpartition("_")
        if name in ("intra_fid", "class_accuracy") and suffix.isdigit():
            per_class.setdefault(name, []).append((int(suffix), value))
        else:
            headline[key] = value
    return headline, per_class


@dataclass
class SweepPoint:
    """One truncation threshold's metrics (``truncation`` ``None``: untruncated)."""

    truncation: float | None
    metrics: dict[str, float]


def parse_truncations(text: str) -> list[float | None]:
    """``"0.5,1,none"`` -> ``[0.5, 1.0, None]``; thresholds must be positive."""
    values: list[float | None] = []
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        if part.lower() == "none":
            values.append(None)
            continue
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"--truncation-sweep {text!r}: {part!r} is not a number (e.g. 0.5,1,1.5,2 or none)") from None
        if not value > 0 or math.isinf(value):
            raise ValueError(f"--truncation-sweep {text!r}: thresholds must be positive, got {part}")
        values.append(value)
    if not values:
        raise ValueError(f"--truncation-sweep {text!r}: give at least one threshold, e.g. 0.5,1,1.5,2")
    return values


def truncation_sweep(target: Any, protocol: Protocol, extractor: ResolvedExtractor, truncations: Sequence[float | None],
                     metrics: Sequence[str] = ("isc", "fid"), cache_root: str | os.PathLike[str] | None = None
                     ) -> list[SweepPoint]:
    """Benchmark ``target`` (a :class:`~ganzoo.metrics.bench.BenchTarget`) once per threshold, same seed."""
    from ganzoo.metrics.bench import run_benchmark

    if protocol.image_to_image:
        raise ValueError(f"protocol {protocol.name!r} translates images: a truncation sweep needs a noise-to-image model")
    points = []
    for truncation in truncations:
        changed = protocol.model_copy(update={"truncation": truncation}).named_after_preset(protocol.preset_name)
        result = run_benchmark(target, changed, extractor, metrics, cache_root, sample_grid=False)
        points.append(SweepPoint(truncation, dict(result.metrics)))
    return points


def sweep_table(points: Sequence[SweepPoint]) -> str:
    """The sweep as a plain-text table: one row per threshold, the headline metrics as columns."""
    keys = [key for key in ("isc", "fid", "kid", "intra_fid", "class_accuracy")
            if any(key in point.metrics for point in points)]
    lines = ["truncation  " + "  ".join(f"{key:>14s}" for key in keys)]
    for point in points:
        name = "none" if point.truncation is None else f"{point.truncation:g}"
        cells = "  ".join(f"{point.metrics[key]:14.5g}" if key in point.metrics else f"{'':14s}" for key in keys)
        lines.append(f"{name:>10s}  {cells}")
    return "\n".join(lines) + "\n"


def sweep_svg(points: Sequence[SweepPoint], title: str = "truncation trade-off") -> str:
    """IS (x) against FID (y), one labelled point per threshold, as a self-contained SVG."""
    from ganzoo.leaderboard.plots import xy_curve_svg

    usable = [p for p in points if "isc" in p.metrics and "fid" in p.metrics]
    if not usable:
        raise ValueError("a truncation plot needs IS and FID at every point (metrics isc,fid)")
    return xy_curve_svg([(p.metrics["isc"], p.metrics["fid"],
                          "none" if p.truncation is None else f"{p.truncation:g}") for p in usable],
                        "Inception Score (higher is better)", "FID (lower is better)", title)


def sweep_rows(points: Sequence[SweepPoint]) -> list[Mapping[str, Any]]:
    """JSON-ready rows of a sweep."""
    return [{"truncation": point.truncation, **point.metrics} for point in points]
