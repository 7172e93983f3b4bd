"""The environment report of ``ganzoo doctor``: versions, devices, plugins, conflicts and optional files."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any, Callable

from ganzoo.install import installed_version

VERSION_REPORTED = ("torch", "torchvision", "ganzoo", "pluggy", "torch-fidelity", "timm")


OptionalFileCheck = Callable[[], list[dict[str, Any]]]


def inception_weights_check() -> list[dict[str, Any]]:
    """Where the InceptionV3 weights for FID/IS are looked for, and whether one is present."""
    try:
        from ganzoo.metrics.extractors import inception_search_paths
    except Exception as exc:  # the metrics module is optional for doctor: report instead of failing
        return [{"name": "inception-v3-compat weights", "present": False, "path": None, "note": f"cannot check: {exc}"}]
    paths = inception_search_paths()
    present = [p for p in paths if p.is_file()]
    return [{
        "name": "inception-v3-compat weights (FID, IS)",
        "present": bool(present),
        "path": str(present[0] if present else paths[-1]),
        "note": "" if present else "put weights-inception-2015-12-05-6726825d.pth at this path or set GANZOO_INCEPTION_WEIGHTS",
    }]


OPTIONAL_FILE_CHECKS: list[OptionalFileCheck] = [inception_weights_check]
"""Checks of optional files (metric weights, datasets); append a function returning rows to extend doctor."""


def optional_files() -> list[dict[str, Any]]:
    """Run every optional-file check; a failing check becomes a row with its error."""
    rows = []
    for check in OPTIONAL_FILE_CHECKS:
        try:
            rows.extend(check())
        except Exception as exc:
            rows.append({"name": getattr(check, "__name__", "check"), "present": False, "path": None, "note": f"check failed: {exc}"})
    return rows


def versions() -> dict[str, str | None]:
    """Python and the versions of the packages ganzoo depends on (None: not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    found.update({name: installed_version(name) for name in VERSION_REPORTED})
    return found


def devices() -> dict[str, Any]:
    """Which accelerators torch can use."""
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return {
        "cpu_threads": torch.get_num_threads(),
        "cuda": cuda,
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "mps": mps,
        "default": "cuda" if cuda else "mps" if mps else "cpu",
    }


def doctor_report() -> dict[str, Any]:
    """Everything ``ganzoo doctor`` prints."""
    from ganzoo.plugins import get_host

    return {
        "versions": versions(),
        "executable": sys.executable,
        "devices": devices(),
        "plugins": [r.as_dict() for r in get_host().records],
        "model_conflicts": {name: [spec.distribution for spec in specs] for name, specs in get_host().conflicts.items()},
        "optional_files": optional_files(),
        "environment": {k: os.environ[k] for k in ("GANZOO_STRICT_PLUGINS", "GANZOO_DISABLE_PLUGINS", "GANZOO_PREFER", "GANZOO_REGISTRY", "TORCH_HOME") if k in os.environ},
    }
