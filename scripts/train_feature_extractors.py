"""Train the small CNN feature extractors ganzoo ships for offline GAN metrics (digits, shapes).

    python scripts/train_feature_extractors.py            # both
    python scripts/train_feature_extractors.py digits     # one

Each classifier is trained on the dataset's train split at 32 px (digits: 1 channel, shapes: 3) and
evaluated on the held-out split, the same split the ``digits`` / ``shapes`` protocols use as reference.
Training is seeded and single-threaded with deterministic kernels, so a rerun reproduces the weights.
Writes ``ganzoo/metrics/weights/<name>-cnn.safetensors`` and a JSON card (sha256, held-out accuracy,
training settings).  Refuses to write weights whose held-out accuracy is below 97%.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from ganzoo.fileio import atomic_write_bytes, atomic_write_text
from ganzoo.metrics.classifier import SmallCNN, sha256_file, weights_paths
from ganzoo.metrics.protocol import get_preset
from ganzoo.metrics.reference import load_split

MIN_ACCURACY = 0.97
SETTINGS = {
    "digits": {"protocol": "digits", "epochs": 30, "batch_size": 64, "lr": 2e-3, "weight_decay": 1e-4, "seed": 0},
    "shapes": {"protocol": "shapes", "epochs": 30, "batch_size": 64, "lr": 2e-3, "weight_decay": 1e-4, "seed": 0},
}


def tensors(name: str, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """All images and labels of a split of the protocol's dataset (noise-to-image items)."""
    protocol = get_preset(SETTINGS[name]["protocol"])
    items = load_split(protocol, split)
    rows = [items[i] for i in range(len(items))]
    return torch.stack([r["image"] for r in rows]), torch.stack([torch.as_tensor(r["label"]) for r in rows])


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random shifts of up to 2 pixels (the classifier must not depend on exact placement)."""
    padded = F.pad(images, (2, 2, 2, 2), value=-1.0)
    dx, dy = torch.randint(0, 5, (2,), generator=generator).tolist()
    return padded[:, :, dy : dy + images.size(2), dx : dx + images.size(3)]


@torch.no_grad()
def accuracy(net: SmallCNN, images: torch.Tensor, labels: torch.Tensor) -> float:
    net.eval()
    predictions = torch.cat([net(chunk)[1].argmax(1) for chunk in images.split(256)])
    return float((predictions == labels).float().mean())


def train(name: str) -> dict:
    settings = SETTINGS[name]
    torch.manual_seed(settings["seed"])
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    train_x, train_y = tensors(name, "train")
    test_x, test_y = tensors(name, "test")
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    net = SmallCNN(train_x.size(1), num_classes, train_x.size(-1))
    optimizer = torch.optim.AdamW(net.parameters(), lr=settings["lr"], weight_decay=settings["weight_decay"])
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, settings["lr"], total_steps=settings["epochs"] * -(-len(train_x) // settings["batch_size"])
    )
    generator = torch.Generator().manual_seed(settings["seed"])
    loader = DataLoader(TensorDataset(train_x, train_y), batch_size=settings["batch_size"], shuffle=True,
                        generator=generator)
    started = time.perf_counter()
    for epoch in range(settings["epochs"]):
        net.train()
        for images, labels in loader:
            loss = F.cross_entropy(net(augment(images, generator))[1], labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"{name}: epoch {epoch + 1}/{settings['epochs']} loss {loss.item():.4f}", file=sys.stderr)
    held_out = accuracy(net, test_x, test_y)
    print(f"{name}: held-out accuracy {held_out:.4f} on {len(test_x)} images", file=sys.stderr)
    if held_out < MIN_ACCURACY:
        raise SystemExit(f"{name}: held-out accuracy {held_out:.4f} is below {MIN_ACCURACY}; weights not written")
    return save(name, net, settings, held_out, len(train_x), len(test_x), num_classes, time.perf_counter() - started)


def save(name: str, net: SmallCNN, settings: dict, held_out: float, n_train: int, n_test: int, num_classes: int,
         seconds: float) -> dict:
    from safetensors.torch import save

    weights, card_path = weights_paths(f"{name}-cnn")
    state = {key: value.contiguous() for key, value in net.state_dict().items()}
    atomic_write_bytes(weights, save(state, metadata={"name": f"{name}-cnn"}))
    card = {
        "name": f"{name}-cnn",
        "sha256": sha256_file(weights),
        "heldout_accuracy": round(held_out, 6),
        "dataset": name,
        "train_split": "train",
        "heldout_split": "test",
        "train_size": n_train,
        "heldout_size": n_test,
        "image_size": net.image_size,
        "channels": net.channels,
        "num_classes": num_classes,
        "width": 32,
        "feature_dim": net.embed.out_features,
        "training": {key: value for key, value in settings.items() if key != "protocol"},
        "augmentation": "random shifts up to 2 px",
        "optimizer": "AdamW + one-cycle schedule, cross-entropy",
        "train_seconds": round(seconds, 1),
        "torch_version": torch.__version__,
    }
    atomic_write_text(card_path, json.dumps(card, indent=2) + "\n")
    print(json.dumps(card, indent=2))
    return card


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=[*SETTINGS, []], help="which extractors (default: all)")
    args = parser.parse_args()
    for name in args.names or SETTINGS:
        train(name)


if __name__ == "__main__":
    main()
