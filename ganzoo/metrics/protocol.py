"""Evaluation protocols: everything that must match for two metric values to be comparable.

A :class:`Protocol` names the reference data (dataset, split, resolution, task), how many samples are
drawn, the feature extractor and the hash of its weights, the metric parameters, the seed and the resize
policy.  Its :meth:`~Protocol.digest` is a hash of all of that (not of the display name), so results are
ranked only against results whose protocols hash the same.  Nothing here imports torch.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Iterator, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

METRIC_NAMES = ("isc", "fid", "kid", "prc")
RESIZE_POLICY = "to-reference-bilinear-antialias"
CUSTOM_SUFFIX = "-custom"
# fields filled from what is found (weights, data) when a protocol is resolved, not chosen by the user
RESOLVED_FIELDS = ("weights_sha256", "reference_sha256")
# fields hashed only when set (added after results were recorded: unset, they leave every hash as it was)
UNSET_UNHASHED = ("truncation",)


class ProtocolError(ValueError):
    """A protocol that cannot be used (unknown preset, inconsistent parameters)."""


class Protocol(BaseModel):
    """One evaluation protocol (immutable; build variants with :meth:`with_changes`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field("custom", description="display name (a preset name, or 'custom'); not part of the hash")
    dataset: str = Field(description="reference dataset name (as for `--set data.dataset=`)")
    split: str = Field("test", description="reference split (held-out split for the offline protocols)")
    task: Literal["noise-to-image", "paired-image-to-image", "unpaired-image-to-image"] = Field(
        "noise-to-image", description="noise-to-image models (conditional or not) or translation of held-out inputs"
    )
    image_size: int = Field(32, ge=4, description="reference resolution; generated images are resized to it")
    channels: int = Field(3, ge=1, le=3, description="reference channels; generated images are converted to them")
    num_samples: int = Field(1000, ge=2, description="generated samples (image-to-image: held-out inputs, at most)")
    reference_size: int | None = Field(None, ge=2, description="use only the first N reference images (None: all)")
    feature_extractor: str = Field(description="inception-v3-compat, ganzoo-digits-cnn, ganzoo-shapes-cnn, timm:<name>")
    weights_sha256: str | None = Field(None, description="sha256 of the feature-extractor weights (filled when resolved)")
    reference_sha256: str | None = Field(
        None, description="fingerprint of the reference images' content (filled when resolved): changed data, new hash"
    )
    isc_splits: int = Field(10, ge=1)
    kid_subsets: int = Field(100, ge=1)
    kid_subset_size: int = Field(1000, ge=2)
    kid_degree: int = Field(3, ge=1)
    kid_coef0: float = 1.0
    prc_neighborhood: int = Field(3, ge=1)
    seed: int = Field(0, ge=0, le=2**63 - 1)  # torch generators take no larger seed
    batch_size: int = Field(250, ge=1, description="samples per generator call (noise streams can depend on it)")
    resize: Literal["to-reference-bilinear-antialias"] = RESIZE_POLICY
    direction: Literal["AtoB", "BtoA"] = Field(
        "AtoB", description="translation direction (paired models: the data.direction they were trained with)"
    )
    truncation: float | None = Field(
        None, gt=0, description="truncation threshold of the latents (values beyond it resampled); None: untruncated"
    )

    @model_validator(mode="after")
    def _kid_fits(self) -> "Protocol":
        if self.kid_subset_size > self.num_samples:
            raise ValueError(
                f"kid_subset_size ({self.kid_subset_size}) must not exceed num_samples ({self.num_samples})"
            )
        if self.truncation is not None and self.image_to_image:
            raise ValueError("truncation applies to noise-to-image models; a translation protocol draws no latents")
        return self

    @property
    def image_to_image(self) -> bool:
        """True when the protocol evaluates translations of held-out inputs."""
        return self.task.endswith("image-to-image")

    def hashed_fields(self) -> dict[str, Any]:
        """The fields that define comparability (everything except the display name).

        Fields added after the first results were recorded are hashed only when set (``truncation``), so
        an untruncated protocol keeps the hash its results were recorded under.
        """
        unset = {name for name in UNSET_UNHASHED if getattr(self, name) is None}
        return self.model_dump(mode="json", exclude={"name", *unset})

    def digest(self) -> str:
        """A short stable hash of :meth:`hashed_fields` (16 hex digits of a sha256)."""
        canonical = json.dumps(self.hashed_fields(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]

    @classmethod
    def from_record(cls, recorded: Mapping[str, Any]) -> "Protocol":
        """The protocol of a bench result's ``protocol`` dict (less what results add: the model's ``sample``
        settings, the ``labels`` scheme of conditional models)."""
        return cls(**{key: value for key, value in recorded.items() if key in cls.model_fields})

    def with_changes(self, **changes: Any) -> "Protocol":
        """A validated copy with some fields changed (``None`` values are ignored)."""
        changes = {key: value for key, value in changes.items() if value is not None}
        if not changes:
            return self
        data = self.model_dump()
        data.update(changes)
        if "kid_subset_size" not in changes and isinstance(data["num_samples"], int):
            # fewer samples than the preset's KID subsets: the subsets shrink with them (an explicit size is checked)
            data["kid_subset_size"] = min(self.kid_subset_size, max(2, data["num_samples"]))
        try:
            changed = Protocol(**data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) + ' = ' + repr(e['input']) + ': ' if e['loc'] else ''}"
                f"{e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
            )
            raise ProtocolError(f"invalid protocol {data.get('name')!r}: {problems}") from None
        except ValueError as exc:
            raise ProtocolError(f"invalid protocol {data.get('name')!r}: {exc}") from None
        return changed if "name" in changes else changed.named_after_preset(self.preset_name)

    @property
    def preset_name(self) -> str | None:
        """The preset this protocol derives from (``digits`` for ``digits`` and ``digits-custom``), if any."""
        base = self.name.removesuffix(CUSTOM_SUFFIX)
        return base if base in PRESETS else None

    def settings(self) -> dict[str, Any]:
        """What is chosen rather than measured: the hashed fields less the resolved fingerprints."""
        return self.model_dump(mode="json", exclude={"name", *RESOLVED_FIELDS})

    def named_after_preset(self, preset: str | None) -> "Protocol":
        """Named ``preset`` when its settings equal that preset's, else ``<preset>-custom`` (no preset: as is).

        So a field set to the value the preset already has never opens a separate ``-custom`` table.
        """
        if preset is None or preset not in PRESETS:
            return self
        name = preset if self.settings() == PRESETS[preset].settings() else f"{preset}{CUSTOM_SUFFIX}"
        return self if name == self.name else self.model_copy(update={"name": name})


def _preset(**fields: Any) -> Protocol:
    return Protocol(**fields)


# Offline presets are sized for a 2-core CPU; cifar10-train-50k is the standard published protocol.
# The core registers these through ``ganzoo_register_protocols`` like any plugin's; read them through PRESETS.
BUILTIN_PRESETS: dict[str, Protocol] = {
    preset.name: preset
    for preset in (
        _preset(name="digits", dataset="digits", split="test", image_size=32, channels=1, num_samples=1000,
                feature_extractor="ganzoo-digits-cnn", isc_splits=10, kid_subsets=50, kid_subset_size=250),
        _preset(name="shapes", dataset="shapes", split="test", image_size=32, channels=3, num_samples=1000,
                feature_extractor="ganzoo-shapes-cnn", isc_splits=10, kid_subsets=50, kid_subset_size=250),
        _preset(name="shapes-paired", dataset="shapes", split="test", task="paired-image-to-image",
                image_size=32, channels=3, num_samples=500, feature_extractor="ganzoo-shapes-cnn",
                isc_splits=5, kid_subsets=50, kid_subset_size=200),
        _preset(name="shapes-unpaired", dataset="shapes", split="test", task="unpaired-image-to-image",
                image_size=32, channels=3, num_samples=500, feature_extractor="ganzoo-shapes-cnn",
                isc_splits=5, kid_subsets=50, kid_subset_size=200),
        _preset(name="cifar10-train-50k", dataset="cifar10", split="train", image_size=32, channels=3,
                num_samples=50000, feature_extractor="inception-v3-compat", isc_splits=10, kid_subsets=100,
                kid_subset_size=1000),
        _preset(name="cifar10-test-10k", dataset="cifar10", split="test", image_size=32, channels=3,
                num_samples=10000, feature_extractor="inception-v3-compat", isc_splits=10, kid_subsets=100,
                kid_subset_size=1000),
    )
}


class _RegisteredPresets(Mapping[str, Protocol]):
    """Every protocol preset registered through ``ganzoo_register_protocols`` (the core's and the plugins')."""

    @staticmethod
    def _registered() -> dict[str, Protocol]:
        from ganzoo.plugins import get_host

        return get_host().extensions("protocol")

    def __getitem__(self, name: str) -> Protocol:
        return self._registered()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._registered())

    def __len__(self) -> int:
        return len(self._registered())


PRESETS: Mapping[str, Protocol] = _RegisteredPresets()
"""Protocol presets by name, looked up in the plugin host on each access (plugins can add presets)."""


def get_preset(name: str) -> Protocol:
    """The preset called ``name``; unknown names list the available ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ProtocolError(f"unknown protocol {name!r}; available: {', '.join(PRESETS)}") from None


def protocol_task(model_task: str) -> str:
    """The protocol task kind for a model task: conditional and unconditional models share protocols."""
    return model_task if model_task.endswith("image-to-image") else "noise-to-image"


def default_preset(dataset: str, model_task: str) -> Protocol:
    """The preset for benchmarking a model of ``model_task`` trained on ``dataset``.

    Offline datasets have one preset per protocol task (``digits``, ``shapes``, ``shapes-paired``,
    ``shapes-unpaired``); other datasets use ``<dataset>-train-50k`` when it exists.  Anything else must be
    described explicitly (``--protocol`` plus flags).
    """
    task = protocol_task(model_task)
    suffix = {"paired-image-to-image": "-paired", "unpaired-image-to-image": "-unpaired"}.get(task, "")
    # a run trained on "shapes-paired" names its preset directly; one trained on "shapes" gets the task's suffix
    for name in (dataset, f"{dataset}{suffix}", f"{dataset}-train-50k"):
        if name in PRESETS and PRESETS[name].task == task:
            return PRESETS[name]
    raise ProtocolError(
        f"no preset protocol for {task} models on dataset {dataset!r}; pass --protocol NAME "
        f"(available: {', '.join(PRESETS)}) and override its fields with the bench flags"
    )
