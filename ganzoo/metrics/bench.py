"""``ganzoo bench``: evaluate a trained run (or an untrained model) under a protocol with torch-fidelity.

The generated side is a model wrapper whose batches go straight through the extractor (no image files; memory
independent of the number of samples: :mod:`ganzoo.metrics.streaming`); the reference side is the protocol's
held-out split, registered with torch-fidelity under a name containing the protocol hash so its features and
FID statistics are computed once and cached.  The result records
the protocol and full provenance, ready for :mod:`ganzoo.leaderboard`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import torch
from ganzoo._version import __version__
from ganzoo.config import RunConfig, resolve_config, with_sample_settings
from ganzoo.data.images import to_uint8
from ganzoo.metrics.conditional import (
    BALANCED,
    CONDITIONAL_METRIC,
    balanced_labels,
    class_metrics_of_features,
    extractor_layers,
)
from ganzoo.metrics.extractors import ResolvedExtractor, resolve_extractor
from ganzoo.metrics.protocol import (
    METRIC_NAMES,
    PRESETS,
    Protocol,
    ProtocolError,
    default_preset,
    get_preset,
    protocol_task,
)
from ganzoo.metrics.result import BenchResult, IneligibleResultError, ineligibility
from ganzoo.metrics.reference import (
    ReferenceImages,
    dataset_task,
    default_cache_root,
    fidelity_kwargs,
    fingerprint,
    image_digests,
    load_split,
    reference_images,
    reference_size,
    register_reference,
    target_key,
)
from ganzoo.metrics.sampling import SampledModel, TranslatedInputs
from ganzoo.metrics.streaming import model_metrics, stream_features
from ganzoo.plugins import get_host
from ganzoo.specs import ModelSpec
from ganzoo.state import GANState, build_state

# torch-fidelity's result keys -> ganzoo's short names
FIDELITY_KEYS = {
    "inception_score_mean": "isc",
    "inception_score_std": "isc_std",
    "frechet_inception_distance": "fid",
    "kernel_inception_distance_mean": "kid",
    "kernel_inception_distance_std": "kid_std",
    "precision": "precision",
    "recall": "recall",
    "f_score": "f_score",
}
GRID_SAMPLES = 16


class BenchError(ValueError):
    """A benchmark that cannot run as asked (incompatible protocol, too few samples, ...)."""


@dataclass
class BenchTarget:
    """What is evaluated: a model's live state plus the provenance of its weights."""

    spec: ModelSpec
    state: GANState
    config: RunConfig
    checkpoint_hash: str
    train_steps: int
    train_seconds: float | None = None
    run_dir: str | None = None
    checkpoint_path: str | None = None
    loss_plugin: str | None = None


def loss_provider(name: str) -> str | None:
    """The distribution that registers loss ``name`` (``ganzoo`` for the core's), ``None`` when none does."""
    host = get_host()
    return host.get_loss(name).plugin if name in host.list_losses() else None


def digest_json(data: Any) -> str:
    """sha256 of canonical JSON (sorted keys, no whitespace)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def hardware_info(device: torch.device) -> dict[str, Any]:
    """Where and with what the evaluation ran (timings are only comparable on the same hardware; metric
    implementations can change between torch-fidelity and ganzoo versions)."""
    import torch_fidelity

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_fidelity": torch_fidelity.__version__,
        "ganzoo": __version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


# -- protocols ------------------------------------------------------------------------------------------
def resolve_protocol(
    model_task: str,
    dataset: str | None = None,
    protocol: str | Protocol | None = None,
    weights: str | os.PathLike[str] | None = None,
    **changes: Any,
) -> tuple[Protocol, ResolvedExtractor]:
    """Pick the protocol (named, or the dataset's preset), apply field changes, and resolve its extractor.

    The returned protocol carries the sha256 of the extractor weights actually used, so it hashes
    differently when the weights differ.
    """
    if dataset in PRESETS:  # a dataset named like its preset ("shapes-paired") is that preset's dataset ("shapes")
        dataset = PRESETS[dataset].dataset
    if isinstance(protocol, Protocol):
        base = protocol
    elif protocol:
        base = get_preset(protocol)
    else:
        base = default_preset(dataset or ("shapes" if model_task.endswith("image-to-image") else "digits"), model_task)
    if dataset and dataset != base.dataset and protocol:
        changes.setdefault("dataset", dataset)
    resolved = base.with_changes(**changes)
    expected_task = protocol_task(model_task)
    if resolved.task != expected_task:
        raise ProtocolError(
            f"protocol {resolved.name!r} evaluates {resolved.task} models but this model is {model_task}; "
            f"pick a protocol for {expected_task} models"
        )
    extractor = resolve_extractor(resolved.feature_extractor, weights)
    if resolved.weights_sha256 and resolved.weights_sha256 != extractor.weights_sha256:
        raise ProtocolError(
            f"protocol {resolved.name!r} pins feature-extractor weights {resolved.weights_sha256[:16]}..., "
            f"but the weights found have sha256 {extractor.weights_sha256[:16]}..."
        )
    return pin_reference(resolved.with_changes(weights_sha256=extractor.weights_sha256)), extractor


def pin_reference(protocol: Protocol) -> Protocol:
    """``protocol`` with the fingerprint of its reference images' content (``reference_sha256``).

    A ``reference_size`` that covers the whole split is the same protocol as no limit (so it keeps the
    preset's name and hash); a protocol that already pins a fingerprint must find exactly that data.
    """
    images = reference_images(protocol)
    if protocol.reference_size is not None and protocol.reference_size >= len(images.items):  # type: ignore[arg-type]
        protocol = protocol.model_copy(update={"reference_size": None}).named_after_preset(protocol.preset_name)
        images = reference_images(protocol)
    found = fingerprint(image_digests(images))
    if protocol.reference_sha256 and protocol.reference_sha256 != found:
        raise ProtocolError(
            f"protocol {protocol.name!r} pins reference data {protocol.reference_sha256[:16]}..., but the "
            f"{protocol.dataset}/{protocol.split} images found now have fingerprint {found[:16]}... (the data changed)"
        )
    return protocol.with_changes(reference_sha256=found)


# -- targets --------------------------------------------------------------------------------------------
def load_target(
    target: str | os.PathLike[str],
    protocol: Protocol | None = None,
    checkpoint: str | None = None,
    overrides: Sequence[str] = (),
    device: str | torch.device = "cpu",
) -> BenchTarget:
    """A trained run directory (its latest or named checkpoint), or an untrained model by name.

    An untrained model is built at the protocol's resolution and channels (``--set`` overrides apply),
    which gives the "untrained generator" baseline of a protocol.
    """
    from ganzoo.devices import resolve_device

    device = resolve_device(device)
    path = Path(target)
    if path.is_dir():
        return _load_run(path, checkpoint, device)
    host = get_host()
    spec = host.get_model(str(target))
    model_values: dict[str, Any] = {}
    data_values: dict[str, Any] = {}
    if protocol is not None:
        model_values = {"image_size": protocol.image_size, "channels": protocol.channels}
        data_values = {"dataset": protocol.dataset}
        if spec.conditional:
            model_values["num_classes"] = _num_classes(protocol)
    config = resolve_config(spec, values={"model": model_values, "data": data_values}, overrides=overrides)
    return untrained_target(spec, config, device)


def untrained_target(spec: ModelSpec, config: RunConfig, device: str | torch.device = "cpu") -> BenchTarget:
    """``spec`` built from ``config`` and its seed, untrained: step 0 of a run with that config."""
    torch.manual_seed(config.train.seed)
    state = build_state(spec, config, device=device, host=get_host())
    digest = digest_json({"untrained": spec.name, "version": spec.version, "config": config.model_dump(mode="json")})
    return BenchTarget(spec, state, config, f"untrained-{digest[:32]}", 0,
                       loss_plugin=loss_provider(config.train.loss))


def _num_classes(protocol: Protocol) -> int:
    items = load_split(protocol, "train")
    return int(max(int(items[i]["label"]) for i in range(len(items)))) + 1  # type: ignore[arg-type]


def _load_run(run_dir: Path, checkpoint: str | None, device: str | torch.device) -> BenchTarget:
    try:
        from ganzoo.checkpoint import checkpoint_digest, load_run
    except ImportError as exc:  # pragma: no cover - the checkpoint module ships with the trainer
        raise BenchError(f"cannot load run {run_dir}: ganzoo.checkpoint is not available ({exc})") from exc
    loaded = load_run(run_dir, checkpoint=checkpoint, device=str(device))
    return BenchTarget(
        spec=loaded.spec,
        state=loaded.state,
        config=loaded.config,
        checkpoint_hash=checkpoint_digest(loaded.checkpoint_path),
        train_steps=int(loaded.step),
        train_seconds=_train_seconds(loaded),
        run_dir=str(loaded.run_dir),
        checkpoint_path=str(loaded.checkpoint_path),
        loss_plugin=loaded.meta.get("loss_plugin") or loss_provider(loaded.config.train.loss),
    )


def _train_seconds(loaded: Any) -> float | None:
    """Training wall time, from the run if it records one (LoadedRun attribute or the last log row)."""
    for attribute in ("train_seconds", "elapsed", "wall_time"):
        value = getattr(loaded, attribute, None)
        if isinstance(value, (int, float)):
            return float(value)
    log = Path(loaded.run_dir) / "metrics.jsonl"
    if log.is_file():
        lines = [line for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        if lines:
            try:
                row = json.loads(lines[-1])
            except json.JSONDecodeError:
                return None
            for key in ("elapsed", "elapsed_s", "elapsed_seconds", "train_seconds", "wall_time", "time"):
                if isinstance(row.get(key), (int, float)):
                    return float(row[key])
    return None


# -- evaluation -----------------------------------------------------------------------------------------
def training_overlap(target: BenchTarget, protocol: Protocol) -> int | None:
    """How many of the protocol's reference images are also in the run's training data (``None``: untrained).

    Training images are loaded as the protocol sees images (its resolution, channels and field) and compared
    by content, so a split, a folder or a copy of the reference data under another name are all caught.
    """
    if target.run_dir is None:
        return None
    from ganzoo.config import DataConfig, ModelConfig
    from ganzoo.data import DataError, build_dataset

    data = target.config.data
    train_data = DataConfig(**{**data.model_dump(), "download": False})
    model = ModelConfig(image_size=protocol.image_size, channels=protocol.channels)
    try:
        items = build_dataset(train_data, model, dataset_task(protocol), data.split)
    except (DataError, OSError, RuntimeError):
        return None  # training data no longer readable here: cannot be checked
    seen = set(image_digests(ReferenceImages(items, target_key(protocol))))
    return sum(digest in seen for digest in image_digests(reference_images(protocol)))


def check_training_overlap(target: BenchTarget, protocol: Protocol) -> int | None:
    """:func:`training_overlap`, refusing with :class:`IneligibleResultError` a run trained on the reference."""
    overlap = training_overlap(target, protocol)
    size = len(reference_images(protocol))
    reason = ineligibility(overlap, size, f"{target.config.data.dataset}/{target.config.data.split}",
                           f"{protocol.dataset}/{protocol.split}")
    if reason:
        raise IneligibleResultError(f"cannot record {target.spec.name} ({target.run_dir}) under protocol "
                                    f"{protocol.name}: {reason}")
    return overlap


def parse_metrics(text: str | Iterable[str] | None) -> list[str]:
    """``"fid,kid"`` -> ``["fid", "kid"]`` (validated, in canonical order); ``None``: all four."""
    if text is None:
        return list(METRIC_NAMES)
    names = [part.strip().lower() for part in (text.split(",") if isinstance(text, str) else text) if part.strip()]
    unknown = sorted(set(names) - set(METRIC_NAMES))
    if unknown or not names:
        raise BenchError(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; allowed: {', '.join(METRIC_NAMES)}")
    return [name for name in METRIC_NAMES if name in names]


def model_input(target: BenchTarget, protocol: Protocol) -> SampledModel | TranslatedInputs:
    """The torch-fidelity input that draws the target's samples under ``protocol``."""
    if protocol.image_to_image:
        return TranslatedInputs(target.state, protocol, load_split(protocol))
    return SampledModel(target.state, protocol)


def scores_classes(target: BenchTarget, protocol: Protocol) -> bool:
    """Whether a result gets the class-conditional metrics (intra-FID, class accuracy): conditional noise-to-image
    models."""
    return target.spec.conditional and not protocol.image_to_image


def companion_metrics(spec: ModelSpec, protocol: Protocol) -> list[str]:
    """The entries a result adds to the requested metrics: ``paired`` for paired translation, ``conditional``
    for class-conditional noise-to-image models."""
    if protocol.task == "paired-image-to-image":
        return ["paired"]
    return [CONDITIONAL_METRIC] if spec.conditional and not protocol.image_to_image else []


def _num_generated(source: SampledModel | TranslatedInputs, protocol: Protocol) -> int:
    return len(source) if isinstance(source, TranslatedInputs) else protocol.num_samples


def _check_sizes(protocol: Protocol, metrics: Sequence[str], generated: int, reference: int) -> None:
    if "kid" in metrics and min(generated, reference) < protocol.kid_subset_size:
        raise BenchError(
            f"KID needs at least kid_subset_size={protocol.kid_subset_size} images on each side, but there are "
            f"{generated} generated and {reference} reference images; lower it with --set-protocol kid_subset_size=N"
        )
    if "isc" in metrics and generated < protocol.isc_splits:
        raise BenchError(f"IS with {protocol.isc_splits} splits needs at least that many samples (got {generated})")
    if "prc" in metrics and min(generated, reference) <= protocol.prc_neighborhood:
        raise BenchError(f"precision/recall needs more than prc_neighborhood={protocol.prc_neighborhood} images per side")


def check_independent_of_extractor(target: BenchTarget, protocol: Protocol) -> None:
    """Refuse a run that holds the protocol's own feature extractor as one of its networks.

    Networks built from pretrained weights (ppgn's condition network, for example) expose the sha256 of
    that file as ``weights_sha256``.  A sampler that climbs the metric's own classifier makes IS (and
    FID/KID, which share its features) meaningless, so such a run cannot be scored under that protocol.
    """
    for name in target.state.networks:
        digest = getattr(target.state.unwrapped(name), "weights_sha256", None)
        if digest and protocol.weights_sha256 and digest == protocol.weights_sha256:
            raise BenchError(
                f"cannot evaluate {target.spec.name!r} under protocol {protocol.name!r}: its network {name!r} is the "
                f"protocol's feature extractor {protocol.feature_extractor} (weights sha256 {digest[:16]}...); a model "
                "steered by the metric's own classifier would make IS/FID/KID meaningless. Train it with another "
                "classifier or evaluate it with another feature extractor (--feature-extractor)"
            )


def run_benchmark(
    target: BenchTarget,
    protocol: Protocol,
    extractor: ResolvedExtractor,
    metrics: Sequence[str] = METRIC_NAMES,
    cache_root: str | os.PathLike[str] | None = None,
    verbose: bool = False,
    sample_grid: bool = True,
    require_eligible: bool = False,
) -> BenchResult:
    """Compute ``metrics`` for ``target`` under ``protocol`` (reference statistics cached under ``cache_root``).

    ``require_eligible`` refuses up front (:class:`IneligibleResultError`) a run whose training data holds
    the reference images; otherwise their number is only recorded in the result.
    """
    metrics = parse_metrics(metrics)
    check_independent_of_extractor(target, protocol)
    started = time.perf_counter()
    overlap = check_training_overlap(target, protocol) if require_eligible else training_overlap(target, protocol)
    cache = Path(cache_root) if cache_root else default_cache_root()
    reference = register_reference(protocol)
    references = reference_size(protocol, cache)
    class_layers = extractor_layers(extractor) if scores_classes(target, protocol) else {}
    source = model_input(target, protocol)
    generated = _num_generated(source, protocol)
    _check_sizes(protocol, metrics, generated, references)
    raw, features = model_metrics(
        source,
        generated,
        metrics,
        extra_layers=sorted(set(class_layers.values())),
        input2=reference,
        feature_extractor=extractor.registry_name,
        feature_extractor_weights_path=extractor.weights_path,
        **fidelity_kwargs(protocol, cache, target.state.device, verbose),
    )
    values = {FIDELITY_KEYS.get(key, key): float(value) for key, value in raw.items()}
    metric_set = list(metrics)
    if isinstance(source, TranslatedInputs) and source.keep_pairs:
        values.update(source.paired_metrics())
        metric_set.append("paired")
    if class_layers:  # the class metrics read the same features as the pass above (no sample image is kept)
        num_classes = int(target.state.model_config.num_classes)
        values.update(class_metrics_of_features({name: features[layer] for name, layer in class_layers.items()},
                                                balanced_labels(0, generated, num_classes), protocol, extractor,
                                                num_classes, target.state.device, cache))
        metric_set.append(CONDITIONAL_METRIC)
    grid = sample_grid_png(target, protocol) if sample_grid else None
    return BenchResult(
        model=target.spec.name,
        task=target.spec.task,
        plugin=target.spec.distribution or target.spec.plugin,
        plugin_version=target.spec.version,
        ganzoo_version=__version__,
        dataset=protocol.dataset,
        protocol_name=protocol.name,
        protocol_hash=protocol.digest(),
        protocol=recorded_protocol(target, protocol),
        metric_set=metric_set,
        metrics=values,
        num_samples=generated,
        reference_size=references,
        training_overlap=overlap,
        config=target.config.model_dump(mode="json"),
        config_hash=digest_json(target.config.model_dump(mode="json"))[:16],
        checkpoint_hash=target.checkpoint_hash,
        checkpoint_path=target.checkpoint_path,
        run_dir=target.run_dir,
        train_steps=target.train_steps,
        train_seconds=target.train_seconds,
        hardware=hardware_info(target.state.device),
        eval_seconds=round(time.perf_counter() - started, 3),
        recorded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        sample_png_base64=base64.b64encode(grid).decode("ascii") if grid else None,
        loss=target.config.train.loss,
        loss_plugin=target.loss_plugin,
    )


def recorded_protocol(target: BenchTarget, protocol: Protocol) -> dict[str, Any]:
    """The protocol as a result records it; a model with sampling settings adds the values used as ``sample``
    (not part of the protocol hash: they belong to the model's sampler, as its weights do)."""
    recorded = protocol.model_dump(mode="json")
    if scores_classes(target, protocol):
        recorded["labels"] = BALANCED
    if target.spec.sample_config is not None:
        recorded["sample"] = target.config.sample.model_dump(mode="json")
    return recorded


def sample_grid_png(target: BenchTarget, protocol: Protocol, count: int = GRID_SAMPLES) -> bytes:
    """A small PNG grid of the target's samples, seeded by the protocol.

    Translations show inputs above outputs, and above the ground truth for paired data.
    """
    from PIL import Image
    from torchvision.utils import make_grid

    source = model_input(target, protocol)
    if isinstance(source, TranslatedInputs):
        columns = min(count // 2, len(source))
        inputs, outputs = source.translate(columns)
        rows = [inputs.float().cpu(), outputs.detach().float().cpu()]
        if source.keep_pairs:
            rows.append(source.targets[-1])
        images = torch.cat(rows)
    else:
        columns = min(8, count)
        images = source.sample(count).detach().float().cpu()
    if images.size(1) == 1:
        images = images.expand(-1, 3, -1, -1)
    grid = to_uint8(make_grid(images[:, :3], nrow=columns, padding=1, pad_value=1.0))
    buffer = io.BytesIO()
    Image.fromarray(grid.permute(1, 2, 0).numpy()).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def split_images(protocol: Protocol, split: str, field: str | None = None) -> ReferenceImages:
    """Real images of another split of the protocol's dataset, at most ``num_samples`` of them.

    ``field``: which item field (default: the target's; an image-to-image protocol's source field gives the
    untranslated inputs, the score of a model that copies its input).
    """
    return ReferenceImages(load_split(protocol, split), field or target_key(protocol), protocol.num_samples)


def split_metrics(
    protocol: Protocol,
    extractor: ResolvedExtractor,
    split: str = "train",
    metrics: Sequence[str] = ("fid", "kid"),
    cache_root: str | os.PathLike[str] | None = None,
    field: str | None = None,
) -> dict[str, float]:
    """Metrics of real images of ``split`` against the protocol's reference: the floor a perfect model reaches
    (or, with an image-to-image protocol's source ``field``, the score of copying the input)."""
    import torch_fidelity

    metrics = parse_metrics(metrics)
    images = split_images(protocol, split, field)
    _check_sizes(protocol, metrics, len(images), len(reference_images(protocol)))
    raw = torch_fidelity.calculate_metrics(
        input1=images, input2=register_reference(protocol), isc="isc" in metrics, fid="fid" in metrics,
        kid="kid" in metrics, prc="prc" in metrics, feature_extractor=extractor.registry_name,
        feature_extractor_weights_path=extractor.weights_path,
        **fidelity_kwargs(protocol, Path(cache_root) if cache_root else default_cache_root(), torch.device("cpu"),
                          False),
    )
    return {FIDELITY_KEYS.get(key, key): float(value) for key, value in raw.items()}


def extract_features(
    source: BenchTarget | str, protocol: Protocol, extractor: ResolvedExtractor
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Features of a target's samples (or of real images of split ``source``) and of the reference.

    Computed exactly as :func:`run_benchmark` / :func:`split_metrics` compute them, without any cache.
    Keys are ``"features"`` (the FID / KID / PRC layer) and ``"logits"`` (the IS layer).
    """
    from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
    from torch_fidelity.utils import create_feature_extractor, get_featuresdict_from_dataset

    cls = FEATURE_EXTRACTORS_REGISTRY[extractor.registry_name]
    layers = {"features": cls.get_default_feature_layer_for_metric("fid"),
              "logits": cls.get_default_feature_layer_for_metric("isc")}
    cuda = isinstance(source, BenchTarget) and source.state.device.type == "cuda"
    net = create_feature_extractor(extractor.registry_name, sorted(set(layers.values())), cuda=cuda,
                                   feature_extractor_weights_path=extractor.weights_path, verbose=False)
    if isinstance(source, BenchTarget):
        model = model_input(source, protocol)
        generated = stream_features(model, net, _num_generated(model, protocol), protocol.batch_size, cuda,
                                    protocol.seed)
    else:
        generated = get_featuresdict_from_dataset(split_images(protocol, source), net, protocol.batch_size, cuda, True,
                                                  False)
    reference = get_featuresdict_from_dataset(reference_images(protocol), net, protocol.batch_size, cuda, True, False)
    rename = lambda found: {key: found[layer] for key, layer in layers.items()}  # noqa: E731
    return rename(generated), rename(reference)


def prepare(
    target: str | os.PathLike[str],
    protocol: str | Protocol | None = None,
    dataset: str | None = None,
    weights: str | os.PathLike[str] | None = None,
    checkpoint: str | None = None,
    overrides: Sequence[str] = (),
    device: str = "cpu",
    **protocol_changes: Any,
) -> tuple[BenchTarget, Protocol, ResolvedExtractor]:
    """Load what to evaluate and resolve the protocol (a run's dataset picks the default preset).

    ``overrides`` (``--set``) configure an untrained model; for a trained run only ``sample.KEY=VALUE`` (the
    model's sampling settings) may change.
    """
    path = Path(target)
    if path.is_dir():
        loaded = load_target(path, checkpoint=checkpoint, device=device)
        loaded.config = loaded.state.config = with_sample_settings(loaded.spec, loaded.config, overrides)
        if loaded.spec.task == "paired-image-to-image":  # a paired model only translates as it was trained
            protocol_changes.setdefault("direction", getattr(loaded.config.data, "direction", None))
        resolved, extractor = resolve_protocol(loaded.spec.task, dataset or loaded.config.data.dataset, protocol,
                                               weights, **protocol_changes)
        check_independent_of_extractor(loaded, resolved)
        return loaded, resolved, extractor
    spec = get_host().get_model(str(target))
    resolved, extractor = resolve_protocol(spec.task, dataset, protocol, weights, **protocol_changes)
    loaded = load_target(target, resolved, overrides=overrides, device=device)
    check_independent_of_extractor(loaded, resolved)
    return loaded, resolved, extractor


def bench(
    target: str | os.PathLike[str],
    protocol: str | Protocol | None = None,
    dataset: str | None = None,
    metrics: Sequence[str] | str | None = None,
    weights: str | os.PathLike[str] | None = None,
    checkpoint: str | None = None,
    overrides: Sequence[str] = (),
    cache_root: str | os.PathLike[str] | None = None,
    device: str = "cpu",
    verbose: bool = False,
    **protocol_changes: Any,
) -> BenchResult:
    """One call from a run directory (or model name) to a :class:`BenchResult` (the ``ganzoo bench`` API)."""
    loaded, resolved, extractor = prepare(target, protocol, dataset, weights, checkpoint, overrides, device,
                                          **protocol_changes)
    return run_benchmark(loaded, resolved, extractor, parse_metrics(metrics), cache_root, verbose=verbose)


def metrics_summary(result: BenchResult | Mapping[str, Any]) -> str:
    """``fid=12.3 kid=0.004 ...`` for one-line reports."""
    values = result.metrics if isinstance(result, BenchResult) else result["metrics"]
    return " ".join(f"{key}={value:.4g}" for key, value in values.items())
