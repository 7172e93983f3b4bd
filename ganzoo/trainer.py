"""The one training loop that drives every model through its plugin's hooks.

:class:`Trainer` builds the state (``build_state``), feeds ``ganzoo_train_step`` batches from a
deterministic, resumable loader, keeps the EMA, logs ``metrics.jsonl``, draws sample grids from fixed
noise and writes crash-safe checkpoints.  Plugins never re-implement any of this.

A run directory holds ``config.toml`` (the resolved config), ``checkpoints/``, ``samples/*.png`` and
``metrics.jsonl``.  Training ``2N`` steps straight or ``N`` steps, stopping and resuming for ``N`` more gives
the same losses at every step on the CPU.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import torch

from ganzoo import distributed
from ganzoo.checkpoint import (
    CHECKPOINT_DIR,
    CONFIG_FILE,
    CheckpointError,
    checkpoint_step,
    incomplete_checkpoints,
    list_checkpoints,
    resolve_checkpoint,
    restore_checkpoint,
    run_config,
    save_checkpoint,
)
from ganzoo.config import ConfigError, RunConfig, load_toml, resolve_config
from ganzoo.data import build_dataset
from ganzoo.data.images import DataError
from ganzoo.augment import AugmentedBatchSource
from ganzoo.data.loader import EpochBatchSource, EpochLoader
from ganzoo.images import save_grid, side_by_side
from ganzoo.plugins import PluginHost, check_hook_result, get_host
from ganzoo.runlog import RunLog
from ganzoo.runlock import RunDirError, RunLock, RunLockedError
from ganzoo.compiling import compile_networks
from ganzoo.state import GANState, build_state, configure_backends, resolve_device, seed_everything
from ganzoo.stepmetrics import DeviceMetrics, NonFinite

SAMPLES_DIR = "samples"


class TrainingError(RuntimeError):
    """Training cannot go on (diverged, bad run directory); the message says where and what to do."""


class TrainingDiverged(TrainingError):
    """A loss or a weight became NaN or infinite; the last good checkpoint is kept."""


@dataclass
class TrainResult:
    """How a call to :meth:`Trainer.train` ended."""

    run_dir: Path
    step: int
    checkpoint: Path | None
    interrupted: bool = False
    stop_signal: int | None = None  # the signal that interrupted the run (SIGINT, SIGTERM)
    metrics: dict[str, float] = field(default_factory=dict)
    train_seconds: float = 0.0


def _rank_seed(seed: int, rank: int, step: int) -> int:
    """Distinct noise per rank in distributed runs (weights stay identical through DDP)."""
    return (seed * 1_000_003 + rank * 7_919 + step) % 2**63


class _StopRequest:
    """Turns the first Ctrl-C (SIGINT) or SIGTERM (what ``kill`` and job schedulers send) into a request to
    stop after the current step with a checkpoint; a second one aborts at once."""

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self) -> None:
        self.requested = False
        self.signal_number: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.signal_number = signum

    @contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        numbers = [getattr(signal, name) for name in self.SIGNALS if hasattr(signal, name)]
        self._previous = {number: signal.signal(number, self._handle) for number in numbers}
        try:
            yield
        finally:
            for number, previous in self._previous.items():
                signal.signal(number, previous)


class Trainer:
    """Trains one model for ``config.train.steps`` steps into ``run_dir`` (see the module docstring).

    ``resume=True`` continues the run in ``run_dir`` from its latest checkpoint (``config`` is then the
    saved one, possibly with a new step target).  ``dataset`` replaces the dataset ``config.data`` names
    (any Dataset of dict items), mainly for tests and notebooks.
    """

    def __init__(
        self,
        config: RunConfig,
        run_dir: str | Path,
        resume: bool = False,
        host: PluginHost | None = None,
        dataset: Any = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.resume = resume
        self.host = host or get_host()
        self.spec = self.host.get_model(config.model_name)
        self.dataset = dataset
        self.stop = _StopRequest()
        self.lock = RunLock(self.run_dir)
        if distributed.launched_rank() == 0:  # one writer per run directory (other ranks never write)
            self._lock_run_dir()

    def _lock_run_dir(self) -> None:
        """Take the run directory's lock, then check that it holds what this kind of start expects."""
        try:
            self.lock.acquire()
        except (RunLockedError, RunDirError) as exc:
            raise TrainingError(str(exc)) from None
        try:
            self._check_run_dir()
        except BaseException:
            self.lock.release()
            raise

    def _check_run_dir(self) -> None:
        has_config = (self.run_dir / CONFIG_FILE).exists()
        if not self.resume and has_config:
            hint = "" if list_checkpoints(self.run_dir) else " (it stopped before its first checkpoint; --resume starts it from step 0)"
            raise TrainingError(
                f"{self.run_dir} already holds a run{hint}; continue it with `ganzoo train --resume {self.run_dir}` "
                "or choose another --out"
            )
        if self.resume and not has_config:
            raise TrainingError(f"cannot resume {self.run_dir}: it has no checkpoints and no {CONFIG_FILE} (not a ganzoo run)")
        checkpoints = self.run_dir / CHECKPOINT_DIR
        if os.path.lexists(checkpoints) and not checkpoints.is_dir():
            raise TrainingError(f"{checkpoints} is not a folder (it must hold the run's checkpoints); move it away")
        if self.resume and (list_checkpoints(self.run_dir) or incomplete_checkpoints(self.run_dir)):
            try:
                reached = checkpoint_step(resolve_checkpoint(self.run_dir))
            except CheckpointError as exc:
                raise TrainingError(f"cannot resume {self.run_dir}: {exc}") from None
            if self.config.train.steps < reached:
                raise TrainingError(
                    f"cannot resume {self.run_dir} to --steps {self.config.train.steps}: it is already at step "
                    f"{reached}; give --steps {reached} or more (or sample from it as it is)"
                )

    @classmethod
    def from_run_dir(cls, run_dir: str | Path, steps: int | None = None, **train: Any) -> Trainer:
        """A trainer that resumes the run in ``run_dir`` (optionally to a new ``steps`` target)."""
        config = run_config(run_dir)
        changes = {key: value for key, value in {"steps": steps, **train}.items() if value is not None}
        if changes:
            values = config.model_dump(mode="json")
            values["train"].update(changes)
            config = resolve_config(get_host().get_model(config.model_name), values, file_name=str(run_dir))
        return cls(config, run_dir, resume=True)

    # -- setup ------------------------------------------------------------------------------------
    def _build(self) -> None:
        train = self.config.train
        device = resolve_device(train.device)
        self.context = distributed.init_from_environment(device.type)
        self.device = distributed.local_device(device, self.context)
        configure_backends(self.device, train.tf32)
        seed_everything(train.seed)
        self.state: GANState = build_state(self.spec, self.config, device=self.device, host=self.host)
        self.main = self.context.is_main
        dataset = self.dataset if self.dataset is not None else build_dataset(
            self.config.data, self.config.model, self.spec.task
        )
        self.loader = EpochLoader(
            dataset, train.batch_size, seed=train.seed, num_workers=self.config.data.num_workers,
            rank=self.context.rank, world_size=self.context.world_size, pin_memory=self.device.type == "cuda",
        )
        position = {"epoch": 0, "batch_in_epoch": 0}
        self.train_seconds = 0.0
        self.last_checkpoint: Path | None = None
        if self.resume and list_checkpoints(self.run_dir):  # a run killed before its first checkpoint starts over
            self.last_checkpoint = resolve_checkpoint(self.run_dir)
            meta = restore_checkpoint(self.state, self.last_checkpoint)
            position = meta.get("data_position") or position
            self.train_seconds = float(meta.get("train_seconds") or 0.0)
        compile_networks(self.state.networks, train)
        if self.context.enabled:
            torch.manual_seed(_rank_seed(train.seed, self.context.rank, self.state.step))
            distributed.wrap_networks(self.state.networks, self.device)
        self.batches = EpochBatchSource(
            self.loader, self.device, int(position.get("epoch", 0)), int(position.get("batch_in_epoch", 0)),
            channels_last=train.channels_last,
        )
        if self.state.augmenter is not None and self.state.augmenter.data:
            self.batches = AugmentedBatchSource(self.batches, self.state.augmenter, self.state)
        self.preview_batch = self._preview_batch() if self.main and self.spec.image_to_image else None

    def _preview_batch(self) -> dict[str, torch.Tensor]:
        """A fixed held-out batch for image-to-image previews (the training data when there is no test split)."""
        count = min(8, self.config.train.sample_count)
        try:
            held_out = build_dataset(self.config.data, self.config.model, self.spec.task, split="test")
        except (DataError, ValueError, OSError):
            held_out = self.loader.dataset
        items = [held_out[i] for i in range(min(count, len(held_out)))]
        return {key: torch.stack([item[key] for item in items]).to(self.device) for key in items[0]}

    # -- the loop ---------------------------------------------------------------------------------
    def train(self) -> TrainResult:
        """Train up to ``train.steps``; Ctrl-C or SIGTERM stops after the current step with a checkpoint.

        The run directory stays locked until this returns (or the process dies)."""
        try:
            return self._train()
        finally:
            self.lock.release()

    def _train(self) -> TrainResult:
        self._build()
        train = self.config.train
        if self.main:  # on resume too: the step target may have changed
            self.config.save(self.run_dir / CONFIG_FILE)
        log = RunLog(self.run_dir, self.state.step, train.steps, train.progress, train.tensorboard) if self.main else None
        skipped = list(getattr(self.loader.dataset, "skipped", None) or [])
        if log is not None and skipped:
            shown = ", ".join(str(path) for path in skipped[:5]) + (", ..." if len(skipped) > 5 else "")
            log.write(f"skipped {len(skipped)} undecodable image file(s) (data.skip_bad_files): {shown}")
        metrics: dict[str, float] = {}
        interrupted = False
        try:
            with self.stop.installed():
                metrics, interrupted = self._loop(log)
            if self.main:
                if self.last_checkpoint is None or checkpoint_step(self.last_checkpoint) != self.state.step:
                    self._checkpoint()
                if interrupted or self.state.step % train.sample_every:  # else the loop just drew this grid
                    self._sample()
            if log is not None and interrupted:
                log.write(f"interrupted at step {self.state.step}; checkpoint {self.last_checkpoint}; continue with "
                          f"`ganzoo train --resume {self.run_dir}`")
        finally:
            if log is not None:
                log.close()
        distributed.barrier(self.context)  # the other ranks wait for rank 0's last checkpoint
        distributed.shutdown(self.context)
        return TrainResult(self.run_dir, self.state.step, self.last_checkpoint, interrupted,
                           self.stop.signal_number if interrupted else None, metrics, self.train_seconds)

    def _loop(self, log: RunLog | None) -> tuple[dict[str, float], bool]:
        """Steps until ``train.steps`` or a stop request.

        Metrics stay on the device between reads (:mod:`ganzoo.stepmetrics`): the host reads them, and the
        divergence guard, only at log, checkpoint and last steps, and when a stop is requested (under
        torchrun a stop request is shared at those steps, in the same collective as the guard).
        """
        train = self.config.train
        state, spec, host = self.state, self.spec, self.host
        state.train()
        tracker = DeviceMetrics(self.device)
        metrics: dict[str, float] = {}
        started = time.perf_counter()
        window_start, window_batches = started, self.batches.consumed
        while state.step < train.steps:
            state.schedules.at(state.step)
            raw = check_hook_result(spec, "ganzoo_train_step",
                                    host.call("ganzoo_train_step", spec, state=state, batches=self.batches))
            state.step += 1
            if state.ema:
                state.update_ema()
            tracker.record(state.step, dict(raw or {}))
            if log is not None:
                log.advance()
            at_log = state.step % train.log_every == 0 or state.step == train.steps
            at_checkpoint = state.step % train.checkpoint_every == 0
            stop = False
            if at_log or at_checkpoint or (self.stop.requested and not self.context.enabled):
                metrics, non_finite = tracker.read()
                stop, diverged = distributed.any_rank([self.stop.requested, non_finite is not None], self.context)
                if diverged:
                    raise self._diverged_at(non_finite)
                if log is not None and at_log:
                    now = time.perf_counter()
                    images = (self.batches.consumed - window_batches) * train.batch_size * self.context.world_size
                    row = {**metrics, "images_per_s": images / max(now - window_start, 1e-9),
                           "epoch": self.batches.epoch, "elapsed_s": self.train_seconds + now - started}
                    log.log(state.step, row)
                    window_start, window_batches = now, self.batches.consumed
            if log is not None and state.step % train.sample_every == 0:
                self._sample()
            if self.main and (at_checkpoint or stop):
                self.train_seconds += time.perf_counter() - started
                started = time.perf_counter()
                self._checkpoint()
            if stop:
                return metrics, True
        self.train_seconds += time.perf_counter() - started
        return metrics, False

    def _diverged_at(self, non_finite: NonFinite | None) -> TrainingDiverged:
        if non_finite is None:
            return self._diverged(f"a loss on another process at step {self.state.step}")
        culprits = non_finite.culprits
        networks = self._networks_of(list(culprits))
        where = f" (network {', '.join(map(repr, networks))})" if networks else ""
        what = ", ".join(f"{name} = {value}" for name, value in culprits.items())
        return self._diverged(f"{what} at step {non_finite.step}{where}")

    def _networks_of(self, metric_names: list[str]) -> list[str]:
        """Networks a non-finite metric points at: the loss's own network (``loss_g`` -> ``generator``, ``g_ab``,
        ...) and any network whose weights are no longer finite."""
        names = []
        for network in self.state.networks:
            owner = any(metric.startswith("loss_") and metric[5:6] and network.startswith(metric[5:6])
                        for metric in metric_names)
            broken = any(not torch.isfinite(p).all() for p in self.state.unwrapped(network).parameters())
            if owner or broken:
                names.append(network)
        return names

    def _diverged(self, what: str) -> TrainingDiverged:
        kept = f"the last good checkpoint is {self.last_checkpoint}" if self.last_checkpoint else "no checkpoint was written"
        return TrainingDiverged(
            f"training of {self.spec.name!r} diverged: {what}; stopping ({kept}). Try a lower learning rate "
            "(train.lr_g / train.lr_d), fp32 precision or another loss"
        )

    def _checkpoint(self) -> None:
        for name in self.state.networks:
            for param_name, param in self.state.unwrapped(name).named_parameters():
                if not torch.isfinite(param).all():
                    raise self._diverged(f"network {name!r} has non-finite weights ({param_name}) at step {self.state.step}")
        try:
            self.last_checkpoint = save_checkpoint(
                self.run_dir, self.state, self.batches.position(), train_seconds=self.train_seconds
            )
        except OSError as exc:  # a full or read-only disk: say so in one line, the last checkpoint stays usable
            kept = f"the last complete checkpoint is {self.last_checkpoint}" if self.last_checkpoint else "no checkpoint was written"
            raise TrainingError(
                f"cannot write the checkpoint of step {self.state.step} into {self.run_dir}: "
                f"{exc.strerror or exc} ({exc.filename or 'checkpoints'}); {kept}; free space and "
                f"`ganzoo train --resume {self.run_dir}`"
            ) from None

    # -- samples ----------------------------------------------------------------------------------
    def preview_images(self) -> tuple[torch.Tensor, int]:
        """The progress grid's images and images per row, from the model's ``ganzoo_preview`` (every model has one:
        fixed-noise samples, one row per class, by default)."""
        state, spec = self.state, self.spec
        with torch.random.fork_rng(devices=[]):  # previews must not disturb training's RNG
            batch = self.preview_batch if self.preview_batch is not None else {}
            preview = check_hook_result(spec, "ganzoo_preview",
                                        self.host.call("ganzoo_preview", spec, state=state, batch=batch))
        if isinstance(preview, torch.Tensor):
            return preview.detach(), max(1, int(math.sqrt(preview.size(0))))
        return side_by_side([column.detach() for column in preview])

    def _sample(self) -> Path:
        images, nrow = self.preview_images()
        self.state.train()
        path = save_grid(images, self.run_dir / SAMPLES_DIR / f"step-{self.state.step:06d}.png", nrow)
        save_grid(images, self.run_dir / SAMPLES_DIR / "latest.png", nrow)
        return path


def train(
    model: str,
    out: str | Path | None = None,
    *,
    dataset: str | None = None,
    steps: int | None = None,
    config: str | Path | None = None,
    overrides: Sequence[str] = (),
    model_config: Mapping[str, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    **train_values: Any,
) -> TrainResult:
    """Train ``model`` into ``out`` (default ``runs/MODEL-TIMESTAMP``) and return how it ended.

    ``ganzoo.train("dcgan", "runs/d", dataset="digits", steps=500, batch_size=32, device="cpu")``;
    ``config`` is a run TOML file, ``overrides`` ``section.key=value`` strings, ``model_config`` / ``data``
    / keyword arguments set the model, data and train sections.
    """
    spec = get_host().get_model(model)
    file_data = load_toml(config) if config is not None else None
    if file_data and file_data.get("model_name") not in (None, model):
        raise ConfigError(f"config file {config} is for model {file_data['model_name']!r}, not {model!r}")
    values = {
        "model": dict(model_config or {}),
        "train": {"steps": steps, **train_values},
        "data": {**dict(data or {}), **({"dataset": dataset} if dataset else {})},
    }
    run = resolve_config(spec, file_data, overrides, values, file_name=str(config or "config file"))
    out = Path(out) if out is not None else Path("runs") / f"{model}-{datetime.now():%Y%m%d-%H%M%S}"
    return Trainer(run, out).train()
