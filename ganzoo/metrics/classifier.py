"""The small CNN classifiers ganzoo trains and ships as offline feature extractors (digits, shapes).

The network is deliberately plain: three conv blocks, a global average pool, a 64-d embedding layer (its
pre-activation output is the feature space for FID / KID / precision-recall) and a linear classifier (its
logits feed the Inception Score).  Weights live in ``ganzoo/metrics/weights/<name>.safetensors`` next to a
JSON card with their sha256, held-out accuracy and training settings (see
``scripts/train_feature_extractors.py``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

WEIGHTS_DIR = Path(__file__).parent / "weights"
FEATURE_DIM = 64


class SmallCNN(nn.Module):
    """A 32x32 image classifier whose embedding layer doubles as a feature space for GAN metrics.

    Inputs are float images in ``[-1, 1]`` with ``channels`` channels at ``image_size`` pixels.
    ``forward`` returns ``(features, logits)``: the embedding before its ReLU, and the class logits.
    """

    def __init__(self, channels: int, num_classes: int, image_size: int = 32, width: int = 32) -> None:
        super().__init__()
        self.channels, self.num_classes, self.image_size = channels, num_classes, image_size

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

        self.body = nn.Sequential(
            block(channels, width), nn.MaxPool2d(2),
            block(width, 2 * width), nn.MaxPool2d(2),
            block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )
        self.embed = nn.Linear(4 * width, FEATURE_DIM)
        self.dropout = nn.Dropout(0.2)
        self.head = nn.Linear(FEATURE_DIM, num_classes)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.embed(self.body(images))
        logits = self.head(self.dropout(F.relu(features)))
        return features, logits


def folded_for_inference(net: SmallCNN) -> SmallCNN:
    """A copy of ``net`` in eval mode with each BatchNorm folded into the convolution before it.

    Evaluation-only (the running statistics become part of the conv weights): with channels-last inputs the
    folded network runs about twice as fast on a CPU, and its features differ from the unfolded network's by
    float rounding only (~4e-6 absolute on unit-scale features).
    """
    folded = copy.deepcopy(net).eval()
    for block in folded.body:
        if isinstance(block, nn.Sequential) and isinstance(block[0], nn.Conv2d) and isinstance(block[1], nn.BatchNorm2d):
            block[0] = fuse_conv_bn_eval(block[0], block[1])
            block[1] = nn.Identity()
    return folded


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def weights_paths(name: str) -> tuple[Path, Path]:
    """The shipped ``(safetensors, json card)`` paths of classifier ``name`` (e.g. ``digits-cnn``)."""
    return WEIGHTS_DIR / f"{name}.safetensors", WEIGHTS_DIR / f"{name}.json"


def read_card(name: str) -> dict[str, Any]:
    """The JSON card of a shipped classifier; a missing one says how to create it."""
    weights, card = weights_paths(name)
    if not card.is_file() or not weights.is_file():
        raise FileNotFoundError(
            f"feature extractor weights {weights} (and card {card.name}) are missing; they ship with ganzoo - "
            f"reinstall it, or regenerate them with `python scripts/train_feature_extractors.py {name.split('-')[0]}`"
        )
    return json.loads(card.read_text(encoding="utf-8"))


def load_classifier(name: str, weights_path: str | Path | None = None, check_hash: bool = True) -> tuple[SmallCNN, str]:
    """Build shipped classifier ``name`` and load its weights (safetensors, no unpickling).

    Returns the network (eval mode, no gradients) and the sha256 of the weights file.  With the shipped
    file the hash is checked against its card, so a corrupted install cannot silently change every metric.
    """
    from safetensors.torch import load_file

    card = read_card(name)
    path = Path(weights_path) if weights_path else weights_paths(name)[0]
    if not path.is_file():
        raise FileNotFoundError(f"feature extractor weights {path} do not exist")
    digest = sha256_file(path)
    if check_hash and weights_path is None and digest != card["sha256"]:
        raise ValueError(
            f"{path} has sha256 {digest} but its card {name}.json says {card['sha256']}; the file is corrupted - "
            "reinstall ganzoo or regenerate it with scripts/train_feature_extractors.py"
        )
    net = SmallCNN(card["channels"], card["num_classes"], card["image_size"], card.get("width", 32))
    net.load_state_dict(load_file(str(path)))
    return net.eval().requires_grad_(False), digest
