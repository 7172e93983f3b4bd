"""Train the condition network that ganzoo-plugin-ppgn ships (E and C of a PPGN), or one for another dataset.

    python -m ganzoo_ppgn.train_classifier                                  # the shipped ppgn-digits
    python -m ganzoo_ppgn.train_classifier --dataset shapes --channels 3 --out shapes-ppgn.safetensors

The network is :class:`ganzoo_ppgn.classifier.DigitsAlexNet`, trained on the dataset's ``train`` split with
random shifts (up to 3 px) and small rotations, AdamW and a cosine schedule, seeded and single-threaded with
deterministic kernels so a rerun reproduces the file bit for bit.  It is independent of the bench's
``ganzoo-digits-cnn`` (other architecture, seed and augmentation).  Without ``--out`` it writes the package
data ``ganzoo_ppgn/weights/<name>.safetensors`` and its JSON card (sha256, held-out accuracy, settings), which
:func:`ganzoo_ppgn.classifier.load_condition_network` checks at load.  Refuses to write weights whose held-out
accuracy is below ``--min-accuracy``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ganzoo_ppgn.classifier import DigitsAlexNet, sha256_file, shipped_paths


def dataset_tensors(dataset: str, split: str, image_size: int, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every image and label of ``split`` of a ganzoo dataset (images in [-1, 1])."""
    from ganzoo.config import DataConfig, ModelConfig
    from ganzoo.data import build_dataset

    items = build_dataset(DataConfig(dataset=dataset), ModelConfig(image_size=image_size, channels=channels),
                          "class-conditional", split=split)
    rows = [items[i] for i in range(len(items))]
    return torch.stack([row["image"] for row in rows]), torch.stack([torch.as_tensor(row["label"]) for row in rows])


def augment(images: torch.Tensor, generator: torch.Generator, max_shift: int = 3, max_degrees: float = 10.0) -> torch.Tensor:
    """Per-image random shifts and rotations (an affine grid, background -1)."""
    n = images.size(0)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(max_degrees)
    shift = (torch.rand(n, 2, generator=generator) * 2 - 1) * (2 * max_shift / images.size(-1))
    cos, sin = angle.cos(), angle.sin()
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images + 1, grid, align_corners=False, padding_mode="zeros") - 1


@torch.no_grad()
def accuracy(net: DigitsAlexNet, images: torch.Tensor, labels: torch.Tensor) -> float:
    net.eval()
    predictions = torch.cat([net(chunk).argmax(1) for chunk in images.split(256)])
    return float((predictions == labels).float().mean())


def train(args: argparse.Namespace) -> tuple[DigitsAlexNet, dict[str, Any]]:
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    train_x, train_y = dataset_tensors(args.dataset, "train", args.image_size, args.channels)
    test_x, test_y = dataset_tensors(args.dataset, "test", args.image_size, args.channels)
    num_classes = int(max(train_y.max(), test_y.max())) + 1
    net = DigitsAlexNet(args.channels, num_classes, args.image_size, args.width, args.code_dim)
    steps = args.epochs * math.ceil(len(train_x) / args.batch_size)
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    generator = torch.Generator().manual_seed(args.seed)
    started = time.perf_counter()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(train_x), generator=generator)
        for index in order.split(args.batch_size):
            loss = F.cross_entropy(net(augment(train_x[index], generator)), train_y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"epoch {epoch + 1}/{args.epochs} loss {loss.item():.4f}", file=sys.stderr)
    held_out = accuracy(net, test_x, test_y)
    print(f"held-out accuracy {held_out:.4f} on {len(test_x)} images", file=sys.stderr)
    card = {
        "name": args.name, "dataset": args.dataset, "train_split": "train", "heldout_split": "test",
        "train_size": len(train_x), "heldout_size": len(test_x), "heldout_accuracy": round(held_out, 6),
        "architecture": net.architecture(),
        "training": {key: getattr(args, key) for key in ("epochs", "batch_size", "lr", "weight_decay", "seed")},
        "augmentation": "random shifts up to 3 px and rotations up to 10 degrees",
        "optimizer": "AdamW + cosine schedule, cross-entropy",
        "train_seconds": round(time.perf_counter() - started, 1), "torch_version": torch.__version__,
    }
    return net, card


def save(net: DigitsAlexNet, card: dict[str, Any], weights: Path, card_path: Path | None) -> dict[str, Any]:
    """Write the weights (architecture in the safetensors header) and, for package data, the card."""
    from safetensors.torch import save as to_bytes

    from ganzoo.fileio import atomic_write_bytes, atomic_write_text

    state = {key: value.contiguous() for key, value in net.state_dict().items()}
    atomic_write_bytes(weights, to_bytes(state, metadata={"name": card["name"],
                                                          "architecture": json.dumps(net.architecture())}))
    card = {**card, "sha256": sha256_file(weights)}
    if card_path is not None:
        atomic_write_text(card_path, json.dumps(card, indent=2) + "\n")
    return card


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="ppgn-digits", help="classifier name (package data file name)")
    parser.add_argument("--dataset", default="digits", help="ganzoo dataset with labels (default digits)")
    parser.add_argument("--out", type=Path, help="write PATH.safetensors instead of the package data")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--channels", type=int, default=1)
    parser.add_argument("--width", type=int, default=32, help="channels of conv1 (conv2/3 have twice as many)")
    parser.add_argument("--code-dim", type=int, default=128, help="size of fc6 = h and of fc7")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-accuracy", type=float, default=0.97)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    net, card = train(args)
    if card["heldout_accuracy"] < args.min_accuracy:
        raise SystemExit(f"held-out accuracy {card['heldout_accuracy']:.4f} is below {args.min_accuracy}; not written")
    weights, card_path = (args.out, None) if args.out else shipped_paths(args.name)
    print(json.dumps(save(net, card, weights, card_path), indent=2))


if __name__ == "__main__":
    main()
