"""The fixed networks of a PPGN: the encoder E (a classifier's feature layer h) and the condition net C.

Both come from one named pretrained classifier, frozen for the whole run:

* ``ppgn-digits`` (default): a small AlexNet-like digits classifier trained by
  ``python -m ganzoo_ppgn.train_classifier`` and shipped as package data (safetensors plus a JSON card whose
  sha256 is checked at load).  It is deliberately *not* the bench's ``ganzoo-digits-cnn``: another
  architecture (no BatchNorm, fc6/fc7 with ReLU and dropout, a 128-d post-ReLU code), another seed and
  augmentation, so the bench's accuracy and IS/FID judge PPGN samples with an independent network.
* ``ganzoo-digits-cnn`` / ``ganzoo-shapes-cnn``: the core's shipped metric classifiers (the bench refuses to
  evaluate such a run under a protocol that uses the same network as its feature extractor).
* ``timm:<name>``: any timm classifier, weights from ``model.classifier_weights`` or the local Hugging Face
  cache (never downloaded); h is the pooled pre-logits feature, E1 the last feature map.
* a path to a ``.safetensors`` file written by ``ganzoo_ppgn.train_classifier`` (architecture in its header).

Every variant is wrapped in :class:`FrozenClassifier`, which maps generator images (``[-1, 1]``, the model's
size and channels) to the classifier's input differentiably and exposes ``features(x) -> (E1(x), h)`` and
``logits(x)``.  Its ``weights_sha256`` identifies the weights (the bench compares it with its extractor's).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

WEIGHTS_DIR = Path(__file__).parent / "weights"
SHIPPED = {"ppgn-digits": "ppgn-digits"}
CORE_SHIPPED = {"ganzoo-digits-cnn": "digits-cnn", "ganzoo-shapes-cnn": "shapes-cnn"}
TIMM_PREFIX = "timm:"


class ClassifierError(ValueError):
    """A condition network that cannot be loaded (unknown name, missing or corrupted weights)."""


class DigitsAlexNet(nn.Module):
    """AlexNet in miniature for 32 px images: conv1-3 with max-pooling, then fc6 -> fc7 -> fc8.

    As in the paper's AlexNet, h is fc6 after its ReLU (non-negative) and E1 the last pooled conv map
    (pool5's analogue).  No BatchNorm, so the network is the same function in train and eval mode apart
    from dropout.
    """

    def __init__(self, channels: int = 1, num_classes: int = 10, image_size: int = 32, width: int = 32,
                 code_dim: int = 128) -> None:
        super().__init__()
        if image_size % 8:
            raise ValueError(f"image_size must be divisible by 8, got {image_size}")
        self.channels, self.num_classes, self.image_size = channels, num_classes, image_size
        self.width, self.code_dim = width, code_dim
        self.convs = nn.Sequential(
            nn.Conv2d(channels, width, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        flat = 2 * width * (image_size // 8) ** 2
        self.fc6 = nn.Linear(flat, code_dim)
        self.fc7 = nn.Linear(code_dim, code_dim)
        self.fc8 = nn.Linear(code_dim, num_classes)
        self.dropout = nn.Dropout(0.5)

    def architecture(self) -> dict[str, int]:
        """The constructor arguments (stored in the weights file's header)."""
        return {"channels": self.channels, "num_classes": self.num_classes, "image_size": self.image_size,
                "width": self.width, "code_dim": self.code_dim}

    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(E1, h)``: the pooled conv3 map and fc6 after ReLU."""
        conv = self.convs(images)
        return conv, F.relu(self.fc6(conv.flatten(1)))

    def logits_from_code(self, code: torch.Tensor) -> torch.Tensor:
        return self.fc8(self.dropout(F.relu(self.fc7(self.dropout(code)))))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits_from_code(self.features(images)[1])


class FrozenClassifier(nn.Module):
    """A frozen classifier seen through PPGN's eyes: ``features(x) -> (E1, h)`` and ``logits(x)``.

    ``x`` are images in ``[-1, 1]`` at any size and channel count: they are converted (grey <-> RGB),
    resized (bilinear, differentiable) and normalised to what the classifier was trained on.  Parameters
    never require gradients and the module stays in eval mode whatever ``train()`` asks.
    """

    def __init__(self, net: nn.Module, source: str, weights_sha256: str, num_classes: int, channels: int,
                 input_size: int, features: Callable[[nn.Module, torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
                 logits: Callable[[nn.Module, torch.Tensor], torch.Tensor],
                 mean: tuple[float, ...] | None = None, std: tuple[float, ...] | None = None) -> None:
        super().__init__()
        self.net = net
        self.source, self.weights_sha256 = source, weights_sha256
        self.num_classes, self.input_channels, self.input_size = num_classes, channels, input_size
        self._features, self._logits = features, logits
        self.normalise = mean is not None
        if mean is not None and std is not None:
            self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.net.eval()

    def train(self, mode: bool = True) -> FrozenClassifier:
        """Frozen: the wrapped classifier stays in eval mode (no dropout) whatever the trainer asks; only the
        wrapper's own flag follows ``mode``."""
        self.training = mode
        self.net.eval()
        return self

    def adapt(self, images: torch.Tensor) -> torch.Tensor:
        """Generator images -> the classifier's input (channels, size, normalisation), differentiably."""
        x = images.float()
        if x.size(1) == 1 and self.input_channels == 3:
            x = x.expand(-1, 3, -1, -1)
        elif x.size(1) == 3 and self.input_channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)
            x = (x * weights).sum(dim=1, keepdim=True)
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", align_corners=False)
        if self.normalise:
            x = ((x + 1) / 2 - self.mean) / self.std
        return x

    def features(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(E1(x), h = E(x))`` of images in ``[-1, 1]``."""
        return self._features(self.net, self.adapt(images))

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """h = E(x)."""
        return self.features(images)[1]

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """C's class logits for images in ``[-1, 1]``."""
        return self._logits(self.net, self.adapt(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.logits(images)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file (the core's implementation)."""
    from ganzoo.metrics.classifier import sha256_file as core_sha256

    return core_sha256(path)


def shipped_paths(name: str) -> tuple[Path, Path]:
    """``(safetensors, card)`` of a classifier shipped with this plugin."""
    return WEIGHTS_DIR / f"{name}.safetensors", WEIGHTS_DIR / f"{name}.json"


def read_card(name: str) -> dict[str, Any]:
    """The JSON card (sha256, accuracy, training settings, feature range) of a shipped classifier."""
    weights, card = shipped_paths(name)
    if not weights.is_file() or not card.is_file():
        raise ClassifierError(
            f"the shipped classifier {name!r} is missing ({weights}); reinstall ganzoo-plugin-ppgn or regenerate it "
            f"with `python -m ganzoo_ppgn.train_classifier --name {name}`"
        )
    return json.loads(card.read_text(encoding="utf-8"))


def _alexnet_features(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return net.features(x)


def _alexnet_logits(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return net(x)


def load_alexnet_file(path: str | Path, expected_sha256: str | None = None, source: str | None = None) -> FrozenClassifier:
    """A :class:`DigitsAlexNet` from a safetensors file whose header records its architecture."""
    from safetensors import SafetensorError, safe_open
    from safetensors.torch import load_file

    path = Path(path)
    if not path.is_file():
        raise ClassifierError(f"classifier weights {path} do not exist (model.classifier)")
    digest = sha256_file(path)
    if expected_sha256 and digest != expected_sha256:
        raise ClassifierError(
            f"{path} has sha256 {digest} but {expected_sha256} was expected; the file is corrupted or not the "
            "classifier this run was trained with - reinstall ganzoo-plugin-ppgn or regenerate it with "
            "`python -m ganzoo_ppgn.train_classifier`"
        )
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        architecture = json.loads(metadata["architecture"])
        net = DigitsAlexNet(**architecture)
        net.load_state_dict(load_file(str(path)))
    except (KeyError, ValueError, RuntimeError, OSError, SafetensorError) as exc:
        raise ClassifierError(
            f"{path} is not a classifier written by `python -m ganzoo_ppgn.train_classifier` ({exc})"
        ) from None
    return FrozenClassifier(net, source or str(path), digest, net.num_classes, net.channels, net.image_size,
                            _alexnet_features, _alexnet_logits)


def _core_features(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    trunk = net.body(x)
    return trunk, F.relu(net.embed(trunk))


def _core_logits(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return net(x)[1]


def _load_core_classifier(name: str) -> FrozenClassifier:
    from ganzoo.metrics.classifier import load_classifier

    try:
        net, digest = load_classifier(CORE_SHIPPED[name])
    except (FileNotFoundError, ValueError) as exc:
        raise ClassifierError(str(exc)) from None
    return FrozenClassifier(net, name, digest, net.num_classes, net.channels, net.image_size, _core_features,
                            _core_logits)


def _timm_features(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    trunk = net.forward_features(x)
    return trunk, net.forward_head(trunk, pre_logits=True)


def _timm_logits(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return net(x)


def _load_timm(name: str, weights: str | None) -> FrozenClassifier:
    import timm

    from ganzoo.metrics.extractors import ExtractorError, timm_weights

    model_name = name[len(TIMM_PREFIX):]
    try:
        path = timm_weights(model_name, weights)
    except ExtractorError as exc:
        raise ClassifierError(f"model.classifier = {name!r}: {str(exc).replace('--weights PATH', 'model.classifier_weights=PATH')}") from None
    net = timm.create_model(model_name, pretrained=True, pretrained_cfg_overlay={"file": str(path)})
    config = timm.data.resolve_data_config({}, model=net)
    return FrozenClassifier(net, name, sha256_file(path), int(net.num_classes), int(config["input_size"][0]),
                            int(config["input_size"][-1]), _timm_features, _timm_logits,
                            tuple(config["mean"]), tuple(config["std"]))


def known_classifiers() -> list[str]:
    """Names ``model.classifier`` accepts (plus ``timm:<model>`` and paths to weights files)."""
    return [*SHIPPED, *CORE_SHIPPED, f"{TIMM_PREFIX}<model>", "PATH.safetensors"]


def load_condition_network(name: str, weights: str | None = None) -> FrozenClassifier:
    """The frozen classifier ``name`` (see the module docstring); ``weights`` is a timm weights file."""
    if name in SHIPPED:
        card = read_card(SHIPPED[name])
        return load_alexnet_file(shipped_paths(SHIPPED[name])[0], card["sha256"], source=name)
    if name in CORE_SHIPPED:
        return _load_core_classifier(name)
    if name.startswith(TIMM_PREFIX) and len(name) > len(TIMM_PREFIX):
        return _load_timm(name, weights)
    if name.endswith(".safetensors") or Path(name).is_file():
        return load_alexnet_file(name)
    raise ClassifierError(f"model.classifier = {name!r} is unknown; allowed: {', '.join(known_classifiers())}")
