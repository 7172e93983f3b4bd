"""Device names from the command line and configs, checked before anything is built on them."""

from __future__ import annotations

import re

import torch

from ganzoo.config import ConfigError

_DEVICE = re.compile(r"(cpu|cuda|mps)(?::(\d+))?")


class DeviceError(ConfigError):
    """A device name that is malformed or names hardware this machine lacks; the message says what is there."""


def available_devices() -> list[str]:
    """What this machine can run on: ``cpu``, each CUDA device, ``mps``."""
    names = ["cpu"]
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        names += ["cuda"] + [f"cuda:{index}" for index in range(count)] if count > 1 else ["cuda"]
    if _mps_available():
        names.append("mps")
    return names


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(name: str | torch.device, setting: str = "--device") -> torch.device:
    """``name`` as a :class:`torch.device`; ``auto`` picks CUDA, then MPS, then CPU.

    A malformed name or hardware that is not there raises :class:`DeviceError` naming ``setting`` and the
    devices this machine has."""
    if isinstance(name, torch.device):
        name = str(name)
    text = name.strip().lower()
    if text == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu")
    here = f"available here: {', '.join(available_devices())}"
    match = _DEVICE.fullmatch(text)
    if match is None:
        raise DeviceError(f"{setting} {name!r} is not a device name (expected auto, cpu, cuda, cuda:N or mps; {here})")
    kind, index = match.group(1), match.group(2)
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"{setting} {name!r}: no CUDA device is available ({here})")
        if index is not None and int(index) >= torch.cuda.device_count():
            raise DeviceError(f"{setting} {name!r}: this machine has {torch.cuda.device_count()} CUDA device(s) ({here})")
    elif kind == "mps" and not _mps_available():
        raise DeviceError(f"{setting} {name!r}: MPS is not available ({here})")
    elif kind == "cpu" and index not in (None, "0"):
        raise DeviceError(f"{setting} {name!r}: there is one CPU device ({here})")
    return torch.device(text)
