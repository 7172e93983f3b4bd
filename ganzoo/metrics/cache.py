"""torch-fidelity's feature and statistics cache, stored as safetensors: loading a cache file runs no code.

torch-fidelity caches reference features and FID statistics with ``torch.save`` and reads them back with
``torch.load(weights_only=False)``: anyone who can drop a crafted ``*.pt`` into the cache directory could run
code in the next ``ganzoo bench``.  :func:`install` replaces its two cache look-up functions with ones that
keep the same cache names (the key stays torch-fidelity's input name, so callers control it) but store and
load ``<name>.safetensors`` files: tensors and NumPy arrays only.  Its ``.pt`` files are never opened.  A
cache file that cannot be read is recomputed and rewritten.

torch-fidelity offers no hook for its cache format, so the replacement is installed into its module
namespaces; :func:`install` checks that the functions it replaces are the ones it knows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from ganzoo.fileio import atomic_write_bytes

SUFFIX = ".safetensors"
_KIND = "ganzoo_cache_kind"


class CacheFormatError(ValueError):
    """A cache item that cannot be stored without pickle (only tensors and dicts of arrays can)."""


def encode(item: Any) -> bytes:
    """safetensors bytes of a tensor or of a dict of NumPy arrays / tensors (what torch-fidelity caches)."""
    from safetensors.torch import save

    if torch.is_tensor(item):
        return save({"tensor": item.detach().cpu().contiguous()}, metadata={_KIND: "tensor"})
    if isinstance(item, dict) and all(isinstance(v, (np.ndarray, torch.Tensor)) for v in item.values()):
        kinds = {str(key): "numpy" if isinstance(value, np.ndarray) else "tensor" for key, value in item.items()}
        tensors = {str(key): torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray)
                   else value.detach().cpu().contiguous() for key, value in item.items()}
        return save(tensors, metadata={_KIND: "dict", "kinds": json.dumps(kinds)})
    raise CacheFormatError(f"cannot cache a {type(item).__name__} without pickle")


def decode(data: bytes) -> Any:
    """The item :func:`encode` wrote (raises ``ValueError`` for anything else)."""
    from safetensors.torch import load

    tensors = load(data)
    header_length = int.from_bytes(data[:8], "little")  # the format: 8-byte length, then a JSON header
    metadata = json.loads(data[8:8 + header_length]).get("__metadata__") or {}
    kind = metadata.get(_KIND)
    if kind == "tensor" and set(tensors) == {"tensor"}:
        return tensors["tensor"]
    if kind == "dict":
        kinds = json.loads(metadata.get("kinds", "{}"))
        if set(kinds) != set(tensors):
            raise ValueError("the cache file's tensors do not match its metadata")
        return {key: tensors[key].numpy() if kinds[key] == "numpy" else tensors[key] for key in kinds}
    raise ValueError(f"not a ganzoo cache file (kind {kind!r})")


def store(item: Any, path: str | os.PathLike[str]) -> None:
    """Write ``item`` to ``path`` atomically (safetensors)."""
    atomic_write_bytes(path, encode(item))


def load(path: str | os.PathLike[str]) -> Any | None:
    """The cached item at ``path``, or ``None`` when it is missing or unreadable (then it is recomputed)."""
    try:
        return decode(Path(path).read_bytes())
    except FileNotFoundError:
        return None
    except Exception:  # a damaged file (safetensors raises its own error types): recompute it
        return None


def _cache_root(kwargs: dict[str, Any]) -> Path | None:
    from torch_fidelity.helpers import get_kwarg

    if not get_kwarg("cache", kwargs):
        return None
    root = get_kwarg("cache_root", kwargs)
    if root is None:
        root = os.path.join(torch.hub._get_torch_home(), "fidelity_cache")  # torch-fidelity's default
    Path(root).mkdir(parents=True, exist_ok=True)
    return Path(root)


def lookup_one(cached_filename: str, fn_recompute: Callable[[], Any], **kwargs: Any) -> Any:
    """Drop-in for ``torch_fidelity.utils.cache_lookup_one_recompute_on_miss`` without pickle."""
    root = _cache_root(kwargs)
    if root is None:
        return fn_recompute()
    path = root / f"{cached_filename}{SUFFIX}"
    item = load(path)
    if item is None:
        item = fn_recompute()
        store(item, path)
    return item


def lookup_group(prefix: str, item_names: Sequence[str], fn_recompute: Callable[[], dict[str, Any]],
                 **kwargs: Any) -> dict[str, Any]:
    """Drop-in for ``torch_fidelity.utils.cache_lookup_group_recompute_all_on_any_miss`` without pickle."""
    root = _cache_root(kwargs)
    if root is None:
        return fn_recompute()
    paths = {name: root / f"{prefix}{name}{SUFFIX}" for name in item_names}
    found = {name: load(path) for name, path in paths.items()}
    if all(item is not None for item in found.values()):
        return found
    items = fn_recompute()
    for name, path in paths.items():
        store(items[name], path)
    return items


_REPLACED = {
    "cache_lookup_one_recompute_on_miss": lookup_one,
    "cache_lookup_group_recompute_all_on_any_miss": lookup_group,
}


def install() -> None:
    """Point torch-fidelity's cache look-ups (in every module that imported them) at the functions above."""
    import importlib

    utils = importlib.import_module("torch_fidelity.utils")
    modules = [utils] + [importlib.import_module(f"torch_fidelity.{name}")
                         for name in ("metric_fid", "metric_isc", "metric_kid", "metric_prc", "metrics")]
    for name, replacement in _REPLACED.items():
        if not callable(getattr(utils, name, None)):
            raise RuntimeError(f"torch_fidelity.utils.{name} is gone: this torch-fidelity version is not supported")
        for module in modules:
            if hasattr(module, name):
                setattr(module, name, replacement)
