"""The reference side of a protocol: held-out images as a torch-fidelity dataset, and input conversion.

Reference images come from :func:`ganzoo.data.build_dataset` at the protocol's resolution and channels and
are registered with torch-fidelity under a name that contains the protocol hash, so torch-fidelity's cache
of reference features and statistics is reused by every later benchmark under the same protocol and can
never be confused with another protocol's.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from torch_fidelity.registry import DATASETS_REGISTRY, register_dataset

from ganzoo.data.images import to_uint8
from ganzoo.fileio import atomic_write_text
from ganzoo.metrics.extractors import computation_revision
from ganzoo.metrics.protocol import Protocol

CACHE_ENV = "GANZOO_CACHE_DIR"


def default_cache_root() -> Path:
    """``$GANZOO_CACHE_DIR``, else ``$XDG_CACHE_HOME/ganzoo`` (``~/.cache/ganzoo``), plus ``fidelity``."""
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "ganzoo"
    )
    return Path(root) / "fidelity"


def target_key(protocol: Protocol) -> str:
    """Which item field holds the images generated ones are compared with."""
    if protocol.task == "unpaired-image-to-image":
        return "b" if protocol.direction == "AtoB" else "a"
    if protocol.task == "paired-image-to-image" and protocol.direction == "BtoA":
        return "input"
    return "image"


def source_key(protocol: Protocol) -> str:
    """Which item field holds the inputs an image-to-image model translates."""
    if protocol.task == "unpaired-image-to-image":
        return "a" if protocol.direction == "AtoB" else "b"
    if protocol.task == "paired-image-to-image" and protocol.direction == "BtoA":
        return "image"
    return "input"


def dataset_task(protocol: Protocol) -> str:
    """The dataset task (item fields) the protocol's data is loaded for."""
    return "unconditional" if protocol.task == "noise-to-image" else protocol.task


def load_split(protocol: Protocol, split: str | None = None) -> Dataset:
    """The protocol's dataset split (dict items) at its resolution and channels."""
    from ganzoo.config import DataConfig, ModelConfig

    from ganzoo.data import build_dataset

    split = split or protocol.split
    data = DataConfig(dataset=protocol.dataset, split=split)
    model = ModelConfig(image_size=protocol.image_size, channels=protocol.channels)
    return build_dataset(data, model, dataset_task(protocol), split)


class ReferenceImages(Dataset):
    """uint8 images of one field of a dataset's items (what torch-fidelity's dataset input expects)."""

    def __init__(self, items: Dataset, key: str, limit: int | None = None) -> None:
        self.items, self.key = items, key
        self.length = len(items) if limit is None else min(limit, len(items))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> torch.Tensor:
        if index >= self.length:
            raise IndexError(index)
        item: Mapping[str, torch.Tensor] = self.items[index]
        return to_uint8(item[self.key])


def reference_images(protocol: Protocol) -> ReferenceImages:
    """The reference images of ``protocol`` (its split, target field and size limit)."""
    return ReferenceImages(load_split(protocol), target_key(protocol), protocol.reference_size)


def image_digests(images: ReferenceImages) -> list[bytes]:
    """sha256 of every image's uint8 pixels (with its shape), in order: the content the metrics see."""
    tensors = getattr(images.items, "tensors", None)
    if isinstance(tensors, dict) and images.key in tensors:  # preloaded: convert all at once
        pixels: Any = to_uint8(tensors[images.key][: len(images)])
    else:
        pixels = (images[index] for index in range(len(images)))
    return [hashlib.sha256(repr(tuple(image.shape)).encode() + image.numpy().tobytes()).digest() for image in pixels]


def fingerprint(digests: list[bytes]) -> str:
    """One sha256 over the ordered per-image digests: equal only for the same images in the same order."""
    return hashlib.sha256(b"".join(digests)).hexdigest()


def reference_fingerprint(protocol: Protocol) -> tuple[str, int]:
    """The fingerprint of the protocol's reference images and how many there are.

    Computed from the data every time (never cached), so replaced files or arrays change the protocol hash
    and with it the name of the cached statistics.
    """
    digests = image_digests(reference_images(protocol))
    return fingerprint(digests), len(digests)


def reference_name(protocol: Protocol) -> str:
    """The torch-fidelity dataset (and cache) name of the protocol's reference images.

    It names the extractor's computation revision too, so statistics cached before a change of computation
    (same weights, same protocol hash) are never reused."""
    revision = computation_revision(protocol.feature_extractor)
    suffix = f"-r{revision}" if revision > 1 else ""
    return f"ganzoo-{protocol.dataset}-{protocol.split}-{protocol.digest()}{suffix}".replace(os.sep, "_")


def register_reference(protocol: Protocol) -> str:
    """Register the protocol's reference images with torch-fidelity (once per process); returns the name."""
    name = reference_name(protocol)
    if name not in DATASETS_REGISTRY:
        register_dataset(name, lambda root, download, _p=protocol: reference_images(_p))
    return name


def reference_size(protocol: Protocol, cache_root: Path) -> int:
    """How many reference images the protocol has, remembered next to torch-fidelity's cache.

    With warm caches a benchmark then never builds the reference dataset at all.
    """
    marker = cache_root / f"{reference_name(protocol)}.json"
    try:
        return int(json.loads(marker.read_text(encoding="utf-8"))["size"])
    except (OSError, ValueError, KeyError, TypeError):
        size = len(reference_images(protocol))
        atomic_write_text(marker, json.dumps({"size": size, "protocol": protocol.hashed_fields()}))
        return size


def resize_images(images: torch.Tensor, image_size: int, channels: int) -> torch.Tensor:
    """[-1, 1] images -> float [-1, 1] images of ``channels`` channels at ``image_size`` (the resize policy)."""
    x = images.float()
    if x.size(1) != channels:
        if x.size(1) == 1:
            x = x.expand(-1, channels, -1, -1)
        elif channels == 1:
            weights = torch.tensor([0.299, 0.587, 0.114], device=x.device).view(1, 3, 1, 1)
            x = (x[:, :3] * weights).sum(dim=1, keepdim=True)
        else:
            x = x[:, :channels]
    if x.shape[-1] != image_size or x.shape[-2] != image_size:
        x = F.interpolate(x, size=(image_size,) * 2, mode="bilinear", antialias=True, align_corners=False)
    return x


def to_reference(images: torch.Tensor, protocol: Protocol) -> torch.Tensor:
    """Generated [-1, 1] images -> uint8 at the reference resolution and channels (the resize policy)."""
    return to_uint8(resize_images(images, protocol.image_size, protocol.channels))


PRC_BLOCK = 500


def fidelity_kwargs(protocol: Protocol, cache_root: Path, device: torch.device, verbose: bool) -> dict[str, Any]:
    """The torch-fidelity keyword arguments every computation under ``protocol`` shares.

    Also makes torch-fidelity's cache pickle-free (:mod:`ganzoo.metrics.cache`) before it is used."""
    from ganzoo.metrics import cache

    cache.install()
    return {
        "cuda": device.type == "cuda",
        "batch_size": protocol.batch_size,
        "isc_splits": protocol.isc_splits,
        "kid_subsets": protocol.kid_subsets,
        "kid_subset_size": protocol.kid_subset_size,
        "kid_kernel": "poly",
        "kid_kernel_poly_degree": protocol.kid_degree,
        "kid_kernel_poly_coef0": protocol.kid_coef0,
        "prc_neighborhood": protocol.prc_neighborhood,
        # k-NN distances in blocks of PRC_BLOCK rows: exact, and memory O(PRC_BLOCK * N) instead of torch-fidelity's
        # default blocks of 10,000 rows (4 GB of distances per block at N = 50,000)
        "prc_batch_size": PRC_BLOCK,
        "samples_shuffle": True,
        "rng_seed": protocol.seed,
        "datasets_root": str(cache_root / "datasets"),
        "datasets_download": False,
        "cache_root": str(cache_root),
        "cache": True,
        # no DataLoader worker processes: reference items are cheap and workers cost more than they save
        "save_cpu_ram": True,
        "verbose": verbose,
    }
