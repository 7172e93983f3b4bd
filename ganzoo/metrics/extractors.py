"""Feature extractors for GAN metrics, registered with torch-fidelity, and the lookup of their weights.

Three families, all usable for IS (logits) and FID / KID / precision-recall (features):

* ``inception-v3-compat``: torch-fidelity's TF-compatible InceptionV3.  Its weights are never downloaded:
  they are looked up at ``--weights``, ``$GANZOO_INCEPTION_WEIGHTS`` or torch hub's checkpoint cache, and
  their full sha256 must be the official file's before torch-fidelity loads them (it unpickles that file).
* ``ganzoo-digits-cnn`` / ``ganzoo-shapes-cnn``: small classifiers trained by ganzoo and shipped inside the
  package (see :mod:`ganzoo.metrics.classifier`).
* ``timm:<model>``: any timm backbone, with weights from ``--weights`` or the Hugging Face cache.

Every extractor receives uint8 images at the reference resolution with 1 or 3 channels and adapts them
to its own input (channel conversion and resizing); that adaptation is part of the protocol's resize policy.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3, FeatureExtractorInceptionV3
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor

from ganzoo.metrics.classifier import folded_for_inference, load_classifier, read_card, sha256_file

INCEPTION = "inception-v3-compat"
INCEPTION_FILE = URL_INCEPTION_V3.rsplit("/", 1)[-1]  # weights-inception-2015-12-05-6726825d.pth
# The official file's full sha256 (torch hub names it after the first 8 hex digits).  torch-fidelity loads it
# with torch.load(weights_only=False), which can run code: nothing else may reach that call.
INCEPTION_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
INCEPTION_SHA256_PREFIX = INCEPTION_FILE.rsplit("-", 1)[-1].split(".")[0]
assert INCEPTION_SHA256.startswith(INCEPTION_SHA256_PREFIX)
INCEPTION_WEIGHTS_ENV = "GANZOO_INCEPTION_WEIGHTS"
# Lets tests (and users of a re-exported Inception port) accept another file, named by its full sha256; the
# hash is still recorded in the protocol.
INCEPTION_HASH_ENV = "GANZOO_INCEPTION_SHA256"
SHIPPED = {"ganzoo-digits-cnn": "digits-cnn", "ganzoo-shapes-cnn": "shapes-cnn"}
TIMM_PREFIX = "timm:"
# Raised when an extractor's computation changes but not its weights (2: the shipped CNNs' BatchNorms folded
# into their convolutions, features equal to float rounding): reference statistics cached under an older
# revision are then recomputed instead of being compared with features of the new computation.
COMPUTATION_REVISIONS = {"ganzoo-digits-cnn": 2, "ganzoo-shapes-cnn": 2}


def computation_revision(name: str) -> int:
    """The revision of extractor ``name``'s computation (1 unless it changed since it first shipped)."""
    return COMPUTATION_REVISIONS.get(name, 1)


class ExtractorError(ValueError):
    """A feature extractor that cannot be used (unknown name, missing or wrong weights)."""


@dataclass(frozen=True)
class ResolvedExtractor:
    """A feature extractor ready for torch-fidelity: its registry name, weights file and their hash."""

    name: str
    registry_name: str
    weights_path: str | None
    weights_sha256: str


def adapt_images(images: torch.Tensor, channels: int, size: tuple[int, int] | None) -> torch.Tensor:
    """uint8 ``(N, C, H, W)`` -> float in [0, 1] with ``channels`` channels, resized to ``size`` if given.

    Grey images are repeated to RGB; RGB images are turned grey with ITU-R 601 luma weights.  Resizing is
    bilinear with antialiasing (the protocol's resize policy).
    """
    x = images.float() / 255.0
    if x.size(1) == 1 and channels == 3:
        x = x.expand(-1, 3, -1, -1)
    elif x.size(1) == 3 and channels == 1:
        weights = torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)
        x = (x * weights).sum(dim=1, keepdim=True)
    if size is not None and tuple(x.shape[-2:]) != tuple(size):
        x = F.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return x


class _FeaturesAndLogits(FeatureExtractorBase):
    """Extractors with two outputs: ``features`` (FID / KID / PRC) and ``logits`` (IS)."""

    @staticmethod
    def get_provided_features_list() -> tuple[str, ...]:
        return ("features", "logits")

    @staticmethod
    def get_default_feature_layer_for_metric(metric: str) -> str:
        return "logits" if metric == "isc" else "features"

    @staticmethod
    def can_be_compiled() -> bool:
        return False

    @staticmethod
    def get_dummy_input_for_compile() -> torch.Tensor:
        return torch.zeros(1, 3, 32, 32, dtype=torch.uint8)


class ShippedClassifierExtractor(_FeaturesAndLogits):
    """torch-fidelity wrapper around one of ganzoo's shipped classifiers (subclassed per weights name)."""

    weights_name: ClassVar[str] = ""

    def __init__(self, name: str, features_list: list[str], feature_extractor_weights_path: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name, features_list)
        net, _ = load_classifier(self.weights_name, feature_extractor_weights_path)
        # folded BatchNorms + channels-last: ~3x the images/s of the plain network on a CPU
        self.net = folded_for_inference(net).to(memory_format=torch.channels_last)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = adapt_images(images, self.net.channels, (self.net.image_size, self.net.image_size)) * 2 - 1
        features, logits = self.net(x.contiguous(memory_format=torch.channels_last))
        out = {"features": features.float(), "logits": logits.float()}
        return tuple(out[name] for name in self.features_list)


class InceptionExtractor(FeatureExtractorInceptionV3):
    """torch-fidelity's InceptionV3 that also accepts grey images (repeated to RGB)."""

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if images.size(1) == 1:
            images = images.expand(-1, 3, -1, -1).contiguous()
        return super().forward(images)


class TimmExtractor(_FeaturesAndLogits):
    """A timm backbone: pooled pre-logits features (FID/KID/PRC) and classifier logits (IS)."""

    model_name: ClassVar[str] = ""

    def __init__(self, name: str, features_list: list[str], feature_extractor_weights_path: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name, features_list)
        import timm

        if not feature_extractor_weights_path:
            raise ExtractorError(f"{name}: no weights file given (resolve it with resolve_extractor first)")
        self.net = timm.create_model(
            self.model_name, pretrained=True, pretrained_cfg_overlay={"file": str(feature_extractor_weights_path)}
        ).eval().requires_grad_(False)
        config = timm.data.resolve_data_config({}, model=self.net)
        self.input_size = tuple(config["input_size"][1:])
        self.register_buffer("mean", torch.tensor(config["mean"]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(config["std"]).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = (adapt_images(images, 3, self.input_size) - self.mean) / self.std
        trunk = self.net.forward_features(x)
        out = {"features": self.net.forward_head(trunk, pre_logits=True).float()}
        if "logits" in self.features_list:
            out["logits"] = self.net.forward_head(trunk).float()
        return tuple(out[name] for name in self.features_list)


def _register(registry_name: str, base: type[FeatureExtractorBase], **attributes: Any) -> str:
    if registry_name not in FEATURE_EXTRACTORS_REGISTRY:
        cls = type(f"{base.__name__}_{registry_name}".replace("-", "_").replace(":", "_"), (base,), attributes)
        register_feature_extractor(registry_name, cls)
    return registry_name


def inception_search_paths(weights: str | os.PathLike[str] | None = None) -> list[Path]:
    """Where the InceptionV3 weights are looked for, in order."""
    candidates = [weights, os.environ.get(INCEPTION_WEIGHTS_ENV)]
    paths = [Path(c) for c in candidates if c]
    paths.append(Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE)
    return paths


def find_inception_weights(weights: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """Locate the InceptionV3 weights and check their hash; returns ``(path, sha256)``.

    A missing file is an error that says which file to fetch from where and where to put it; a file whose
    full sha256 is not the official file's (or ``$GANZOO_INCEPTION_SHA256``) is rejected before anything loads it.
    """
    searched = inception_search_paths(weights)
    explicit = [p for p in searched[:-1]]
    for path in explicit:
        if not path.is_file():
            raise ExtractorError(f"InceptionV3 weights {path} do not exist (given by --weights or ${INCEPTION_WEIGHTS_ENV})")
    path = next((p for p in searched if p.is_file()), None)
    if path is None:
        hub_dir = Path(torch.hub.get_dir()) / "checkpoints"
        raise ExtractorError(
            f"the InceptionV3 weights for {INCEPTION} are not available offline. On a machine with internet, "
            f"download {URL_INCEPTION_V3} and copy the file {INCEPTION_FILE} into {hub_dir}/ "
            f"(torch hub's cache; set $TORCH_HOME to move it), or pass its path with --weights PATH or "
            f"${INCEPTION_WEIGHTS_ENV}=PATH"
        )
    expected = os.environ.get(INCEPTION_HASH_ENV, INCEPTION_SHA256).strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise ExtractorError(f"${INCEPTION_HASH_ENV} = {expected[:80]!r} is not a full sha256 (64 hex digits)")
    digest = sha256_file(path)
    if digest != expected:
        raise ExtractorError(
            f"{path} is not the official InceptionV3 file: its sha256 is {digest}, expected {expected} "
            f"(the file {INCEPTION_FILE} from {URL_INCEPTION_V3})"
        )
    return path, digest


def timm_weights(model_name: str, weights: str | os.PathLike[str] | None) -> Path:
    """The local weights of timm model ``model_name``: ``weights`` or the Hugging Face cache (never downloaded)."""
    import timm

    if not timm.is_model(model_name):
        raise ExtractorError(f"unknown timm model {model_name!r}{_timm_suggestion(model_name)}")
    if weights:
        path = Path(weights)
        if not path.is_file():
            raise ExtractorError(f"timm weights {path} do not exist")
        return path
    cfg = timm.models.get_pretrained_cfg(model_name)
    hub_id = getattr(cfg, "hf_hub_id", None) if cfg is not None else None
    if hub_id:
        from huggingface_hub import try_to_load_from_cache

        repo, _, revision = hub_id.partition("@")
        for filename in ("model.safetensors", "pytorch_model.bin"):
            cached = try_to_load_from_cache(repo, filename, revision=revision or None)
            if isinstance(cached, str):
                return Path(cached)
    from huggingface_hub.constants import HF_HUB_CACHE

    where = f"the Hugging Face repository {hub_id} (model.safetensors)" if hub_id else "timm's pretrained weights"
    raise ExtractorError(
        f"no local weights for timm model {model_name!r}: downloads are disabled. Fetch {where} on a machine with "
        f"internet (e.g. `huggingface-cli download {hub_id or model_name}`) and copy it into the cache {HF_HUB_CACHE}, "
        f"or pass the weights file with --weights PATH"
    )


def _timm_suggestion(name: str) -> str:
    import difflib

    import timm

    close = difflib.get_close_matches(name, timm.list_models(), n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def known_extractors() -> list[str]:
    """Names accepted by ``--feature-extractor`` (plus any ``timm:<model>``)."""
    return [INCEPTION, *SHIPPED, f"{TIMM_PREFIX}<model>"]


def resolve_extractor(name: str, weights: str | os.PathLike[str] | None = None) -> ResolvedExtractor:
    """Find the weights of extractor ``name``, check them, and register it with torch-fidelity."""
    if name == INCEPTION:
        path, digest = find_inception_weights(weights)
        return ResolvedExtractor(name, _register("ganzoo-inception-v3-compat", InceptionExtractor), str(path), digest)
    if name in SHIPPED:
        weights_name = SHIPPED[name]
        read_card(weights_name)  # a clear error when the shipped file is missing
        _, digest = load_classifier(weights_name, weights)
        registry = _register(name, ShippedClassifierExtractor, weights_name=weights_name)
        return ResolvedExtractor(name, registry, str(weights) if weights else None, digest)
    if name.startswith(TIMM_PREFIX) and len(name) > len(TIMM_PREFIX):
        model_name = name[len(TIMM_PREFIX):]
        path = timm_weights(model_name, weights)
        registry = _register(f"ganzoo-timm-{model_name}", TimmExtractor, model_name=model_name)
        return ResolvedExtractor(name, registry, str(path), sha256_file(path))
    raise ExtractorError(f"unknown feature extractor {name!r}; available: {', '.join(known_extractors())}")
