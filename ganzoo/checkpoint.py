"""Crash-safe checkpoints that load without unpickling.

A run directory keeps its checkpoints under ``checkpoints/``, one folder per checkpoint::

    checkpoints/step-000500/weights.safetensors   networks and EMA copies (safetensors)
    checkpoints/step-000500/state.pt              optimizers, grad scaler, extras, RNG states
                                                  (tensors and plain values: torch.load(weights_only=True))
    checkpoints/step-000500/meta.json             step, data position, resolved config, ganzoo version
    checkpoints/latest                            the name of the newest complete checkpoint

A checkpoint folder is assembled under a temporary name (every file written atomically and fsynced) and
renamed into place in one step; only then does ``latest`` move.  A process killed at any moment therefore
leaves the previous checkpoint loadable.  The newest ``train.keep_checkpoints`` folders are kept.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from ganzoo._version import __version__
from ganzoo.config import RunConfig, load_run_config
from ganzoo.fileio import _fsync_directory, atomic_write_bytes, atomic_write_text
from ganzoo.specs import ModelSpec
from ganzoo.state import GANState

CHECKPOINT_DIR = "checkpoints"
LATEST = "latest"
WEIGHTS_FILE = "weights.safetensors"
STATE_FILE = "state.pt"
META_FILE = "meta.json"
CONFIG_FILE = "config.toml"
_NAME = re.compile(r"^step-(\d+)$")
_STAGING = re.compile(r"^\.step-\d+\.(\d+)\.(?:tmp|deleting)$")
_FILES = (WEIGHTS_FILE, STATE_FILE, META_FILE)


ALLOW_OTHER_PLUGIN_ENV = "GANZOO_ALLOW_OTHER_PLUGIN"


class CheckpointError(ValueError):
    """A run directory or checkpoint that cannot be used; the message names it."""


@dataclass
class LoadedRun:
    """A trained run restored from disk: the model spec, its config and an eval-ready :class:`GANState`."""

    spec: ModelSpec
    config: RunConfig
    state: GANState
    step: int
    run_dir: Path
    checkpoint_path: Path
    train_seconds: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def checkpoint_name(step: int) -> str:
    """Folder name of the checkpoint taken after ``step`` steps."""
    return f"step-{step:06d}"


# -- RNG states ---------------------------------------------------------------------------------------
def capture_rng() -> dict[str, Any]:
    """Every random generator training draws from: torch CPU (and CUDA), Python ``random`` and NumPy."""
    version, internal, gauss = random.getstate()
    np_state = np.random.get_state()
    rng: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": {"version": version, "state": list(internal), "gauss": gauss},
        "numpy": {"kind": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)),
                  "pos": int(np_state[2]), "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    return rng


def restore_rng(rng: Mapping[str, Any]) -> None:
    """Put back what :func:`capture_rng` recorded (CUDA states only where the devices exist)."""
    torch.set_rng_state(rng["torch"])
    python = rng["python"]
    random.setstate((python["version"], tuple(python["state"]), python["gauss"]))
    numpy = rng["numpy"]
    np.random.set_state((numpy["kind"], numpy["keys"].numpy().astype(np.uint32), numpy["pos"], numpy["has_gauss"],
                         numpy["cached_gaussian"]))
    cuda = rng.get("cuda")
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


# -- writing ----------------------------------------------------------------------------------------
def _flat_weights(state: GANState) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for name in state.networks:
        for key, value in state.unwrapped(name).state_dict().items():
            tensors[f"networks.{name}.{key}"] = value
    for name, averaged in state.ema.items():
        for key, value in averaged.state_dict().items():
            tensors[f"ema.{name}.{key}"] = value
    # safetensors stores contiguous, unshared CPU tensors (channels-last weights are not contiguous)
    return {key: value.detach().to("cpu").contiguous().clone() for key, value in tensors.items()}


def _nest_weights(flat: Mapping[str, torch.Tensor]) -> dict[str, dict[str, dict[str, torch.Tensor]]]:
    nested: dict[str, dict[str, dict[str, torch.Tensor]]] = {"networks": {}, "ema": {}}
    for key, value in flat.items():
        group, name, param = key.split(".", 2)
        nested[group].setdefault(name, {})[param] = value
    return nested


def _torch_bytes(value: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def _loss_plugin(state: GANState) -> str | None:
    from ganzoo.plugins import get_host

    host = getattr(state, "host", None) or get_host()
    name = state.config.train.loss
    return host.get_loss(name).plugin if name in host.list_losses() else None


def save_checkpoint(
    run_dir: str | Path,
    state: GANState,
    data_position: Mapping[str, Any] | None = None,
    keep: int | None = None,
    train_seconds: float | None = None,
) -> Path:
    """Write the checkpoint of ``state`` at ``state.step`` into ``run_dir`` and return its folder.

    ``data_position`` (epoch, batches consumed, sampler seed) lets a resumed run continue the same data
    order; ``keep`` (default ``train.keep_checkpoints``) is how many checkpoints stay on disk.
    """
    root = Path(run_dir) / CHECKPOINT_DIR
    root.mkdir(parents=True, exist_ok=True)
    name = checkpoint_name(state.step)
    final = root / name
    staging = root / f".{name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _write_staging(staging, state, data_position, train_seconds)
    except BaseException:  # a full disk, an interrupt: leave no half-written folder behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if final.exists():  # re-saving the same step (e.g. Ctrl-C right after a scheduled save)
        shutil.rmtree(final)
    os.replace(staging, final)
    _fsync_directory(root)
    atomic_write_text(root / LATEST, name + "\n")
    _prune(root, keep if keep is not None else state.config.train.keep_checkpoints, protect=name)
    return final


def _write_staging(staging: Path, state: GANState, data_position: Mapping[str, Any] | None,
                   train_seconds: float | None) -> None:
    from safetensors.torch import save as safetensors_bytes

    full = state.state_dict()
    config = state.config
    atomic_write_bytes(staging / WEIGHTS_FILE, safetensors_bytes(_flat_weights(state), metadata={"format": "pt"}))
    atomic_write_bytes(staging / STATE_FILE, _torch_bytes({
        "optimizers": full["optimizers"], "scaler": full["scaler"], "extras": full["extras"], "rng": capture_rng(),
    }))
    meta = {
        "step": state.step,
        "model": state.spec.name,
        "plugin": state.spec.distribution,
        "plugin_version": state.spec.version,
        "loss_plugin": _loss_plugin(state),  # the leaderboard names it even after that plugin is uninstalled
        "ganzoo_version": __version__,
        "data_position": dict(data_position or {}),
        "train_seconds": train_seconds,
        "saved_at": time.time(),
        "config": config.model_dump(mode="json"),
    }
    atomic_write_text(staging / META_FILE, json.dumps(meta, indent=2))
    atomic_write_text(staging / CONFIG_FILE, config.to_toml())


def _prune(root: Path, keep: int, protect: str) -> None:
    checkpoints = list_checkpoints(root.parent)
    for path in checkpoints[:-keep] if keep > 0 else []:
        if path.name != protect:
            _delete_checkpoint(path)
    _remove_abandoned_staging(root)


def _delete_checkpoint(path: Path) -> None:
    """Unlist the checkpoint in one atomic rename, then delete it: a kill midway leaves only a hidden folder."""
    trash = path.parent / f".{path.name}.{os.getpid()}.deleting"
    os.replace(path, trash)
    _fsync_directory(path.parent)
    shutil.rmtree(trash, ignore_errors=True)


def _remove_abandoned_staging(root: Path) -> None:
    """Delete half-assembled folders left by a process that was killed while saving (they can be large)."""
    for path in [*root.glob(".step-*.tmp"), *root.glob(".step-*.deleting")]:
        match = _STAGING.match(path.name)
        if match and not _process_alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's process, or unknowable: leave its folder alone
    return True


# -- reading ----------------------------------------------------------------------------------------
def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoint folders of a run, oldest first."""
    root = Path(run_dir) / CHECKPOINT_DIR
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir()
             if (m := _NAME.match(p.name)) and all((p / name).is_file() for name in _FILES)]
    return [path for _, path in sorted(found)]


def incomplete_checkpoints(run_dir: str | Path) -> dict[Path, str]:
    """``step-N`` folders that lack a file, each with what is wrong (a finished save is never incomplete)."""
    root = Path(run_dir) / CHECKPOINT_DIR
    if not root.is_dir():
        return {}
    damaged = {}
    for path in sorted(root.iterdir()):
        if _NAME.match(path.name) and path.is_dir():
            missing = [name for name in _FILES if not (path / name).is_file()]
            if missing:
                damaged[path] = f"{', '.join(missing)} missing or not a file"
    return damaged


def resolve_checkpoint(run_dir: str | Path, checkpoint: str | None = None) -> Path:
    """The folder of checkpoint ``checkpoint`` (a name like ``step-000500``, a step number, a path or
    ``latest``/``None``) in ``run_dir``."""
    run_dir = Path(run_dir)
    available = list_checkpoints(run_dir)
    if checkpoint is None or checkpoint == LATEST:
        named = _latest_pointer(run_dir)
        if named is not None and named in available:
            return named
        damaged = incomplete_checkpoints(run_dir)  # an older complete one is used instead (as after a torn delete)
        if not available and damaged:
            path, problem = next(iter(damaged.items()))
            raise CheckpointError(f"{run_dir} has no usable checkpoint: {path} is damaged: {problem}")
        if not available:
            raise CheckpointError(f"{run_dir} has no checkpoints (expected {run_dir / CHECKPOINT_DIR}/step-*/)")
        return available[-1]  # the pointer names a checkpoint that is gone (pruned or never completed)
    candidates = [Path(checkpoint), run_dir / CHECKPOINT_DIR / checkpoint]
    if str(checkpoint).isdigit():
        candidates.append(run_dir / CHECKPOINT_DIR / checkpoint_name(int(checkpoint)))
    for candidate in candidates:
        if candidate.is_file() and candidate.name == WEIGHTS_FILE:
            candidate = candidate.parent
        if (candidate / META_FILE).is_file():
            return candidate
    names = ", ".join(p.name for p in available) or "none"
    raise CheckpointError(f"checkpoint {checkpoint!r} not found in {run_dir} (available: {names})")


def _latest_pointer(run_dir: Path) -> Path | None:
    """The checkpoint ``checkpoints/latest`` names; it may only name a ``step-N`` folder of this run."""
    pointer = run_dir / CHECKPOINT_DIR / LATEST
    if not os.path.lexists(pointer):
        return None
    if not pointer.is_file() or pointer.is_symlink():
        raise CheckpointError(f"{pointer} is not a plain file (it must hold the name of the newest checkpoint); "
                              "remove it and the newest checkpoint is used")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"cannot read {pointer}: {exc}") from None
    if not _NAME.match(name):
        raise CheckpointError(f"{pointer} names {name[:80]!r}, which is not a checkpoint of this run (expected "
                              "step-NNNNNN); remove the file and the newest checkpoint is used")
    return run_dir / CHECKPOINT_DIR / name


def read_meta(checkpoint_path: str | Path) -> dict[str, Any]:
    """The ``meta.json`` of a checkpoint folder, checked: its ``step`` and ``data_position`` are usable."""
    path = Path(checkpoint_path) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"cannot read checkpoint metadata {path}: {exc}") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"checkpoint metadata {path} is not a JSON object")
    problem = _meta_problem(meta)
    if problem:
        raise CheckpointError(f"checkpoint metadata {path} is damaged: {problem}")
    return meta


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _meta_problem(meta: Mapping[str, Any]) -> str:
    if "step" not in meta:
        return "it has no 'step'"
    if not _is_count(meta["step"]):
        return f"'step' is {meta['step']!r}, expected a whole number >= 0"
    position = meta.get("data_position") or {}
    if not isinstance(position, dict):
        return f"'data_position' is {position!r}, expected an object with epoch and batch_in_epoch"
    for key in ("epoch", "batch_in_epoch"):
        if key in position and not _is_count(position[key]):
            return f"'data_position.{key}' is {position[key]!r}, expected a whole number >= 0"
    seconds = meta.get("train_seconds")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))):
        return f"'train_seconds' is {seconds!r}, expected a number"
    return ""


def checkpoint_step(checkpoint_path: str | Path) -> int:
    """The step a checkpoint folder was taken at (from its checked ``meta.json``)."""
    return int(read_meta(checkpoint_path)["step"])


def check_trained_by(meta: Mapping[str, Any], spec: ModelSpec, checkpoint_path: Path,
                     allow_other_plugin: bool | None = None) -> None:
    """Refuse a checkpoint trained by another distribution than the one now providing its model name.

    The same name from another plugin may be different code (a hijack, a fork); ``allow_other_plugin`` (or
    ``$GANZOO_ALLOW_OTHER_PLUGIN=1``, the CLI's ``--allow-other-plugin``) loads it anyway.
    """
    from ganzoo.plugins import canonical_name

    if allow_other_plugin is None:
        allow_other_plugin = os.environ.get(ALLOW_OTHER_PLUGIN_ENV, "").strip().lower() in {"1", "true", "yes", "on"}
    trained_by = meta.get("plugin")
    if allow_other_plugin or not isinstance(trained_by, str) or trained_by in ("", "?") or not spec.distribution:
        return
    if canonical_name(trained_by) != canonical_name(spec.distribution):
        raise CheckpointError(
            f"checkpoint {checkpoint_path} was trained by {trained_by} {meta.get('plugin_version', '')}, but model "
            f"{spec.name!r} now comes from {spec.distribution} {spec.version}; install {trained_by} (or choose it "
            f"with GANZOO_PREFER={spec.name}={trained_by}), or load it anyway with --allow-other-plugin "
            f"(${ALLOW_OTHER_PLUGIN_ENV}=1)"
        )


def restore_checkpoint(state: GANState, checkpoint_path: str | Path, rng: bool = True,
                       allow_other_plugin: bool | None = None) -> dict[str, Any]:
    """Load a checkpoint folder into ``state`` (and, when ``rng``, the random generators); returns its meta.

    A checkpoint trained by another distribution than the one providing the model now is refused unless
    ``allow_other_plugin`` (see :func:`check_trained_by`)."""
    from safetensors.torch import load_file

    checkpoint_path = Path(checkpoint_path)
    meta = read_meta(checkpoint_path)
    check_trained_by(meta, state.spec, checkpoint_path, allow_other_plugin)
    try:
        weights = _nest_weights(load_file(str(checkpoint_path / WEIGHTS_FILE), device=str(state.device)))
        rest = torch.load(checkpoint_path / STATE_FILE, map_location=state.device, weights_only=True)
    except Exception as exc:  # a truncated or foreign file: say which
        raise CheckpointError(f"cannot load checkpoint {checkpoint_path}: {exc}") from exc
    try:
        state.load_state_dict({
            "step": meta["step"], "networks": weights["networks"], "ema": weights["ema"],
            "optimizers": rest["optimizers"], "scaler": rest.get("scaler"), "extras": rest.get("extras", {}),
        })
    except (KeyError, TypeError, ValueError, RuntimeError, IndexError, AttributeError) as exc:
        what = " ".join(str(exc).split()) or type(exc).__name__
        raise CheckpointError(
            f"checkpoint {checkpoint_path} does not fit model {state.spec.name!r} as configured "
            f"(missing or extra tensors, or other shapes): {what[:500]}"
        ) from None
    if rng and "rng" in rest:
        try:
            _restore_saved_rng(rest["rng"])
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as exc:
            raise CheckpointError(f"checkpoint {checkpoint_path / STATE_FILE} has damaged RNG states: {exc}") from None
    return meta


def _restore_saved_rng(saved: dict[str, Any]) -> None:
    saved["torch"] = saved["torch"].cpu()
    saved["numpy"]["keys"] = saved["numpy"]["keys"].cpu()
    if "cuda" in saved:
        saved["cuda"] = [s.cpu() for s in saved["cuda"]]
    restore_rng(saved)


def run_config(run_dir: str | Path, spec: ModelSpec | None = None) -> RunConfig:
    """The resolved config saved in a run directory (``config.toml``)."""
    from ganzoo.plugins import get_host

    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a ganzoo run directory (no {CONFIG_FILE})")
    if spec is None:
        from ganzoo.config import load_toml

        name = load_toml(path).get("model_name")
        if not name:
            raise CheckpointError(f"{path} does not name its model (model_name)")
        spec = get_host().get_model(name)
    return load_run_config(path, spec)


def load_run(run_dir: str | Path, checkpoint: str | None = None, device: str | torch.device = "cpu") -> LoadedRun:
    """Restore a trained run (its ``latest`` checkpoint or the named one) as an eval-ready state on ``device``."""
    from ganzoo.devices import resolve_device
    from ganzoo.plugins import get_host
    from ganzoo.state import build_state

    device = resolve_device(device)
    run_dir = Path(run_dir)
    path = resolve_checkpoint(run_dir, checkpoint)
    config = run_config(path)  # the config the checkpoint was taken with
    spec = get_host().get_model(config.model_name)
    state = build_state(spec, config, device=device, inference=True)
    meta = restore_checkpoint(state, path, rng=False)
    state.eval()
    return LoadedRun(spec, config, state, int(meta["step"]), run_dir, path, meta.get("train_seconds"), meta)


def checkpoint_digest(path: str | Path) -> str:
    """SHA-256 of a checkpoint's weights file (``path``: the checkpoint folder or its weights file)."""
    path = Path(path)
    weights = path / WEIGHTS_FILE if path.is_dir() else path
    digest = hashlib.sha256()
    with open(weights, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
