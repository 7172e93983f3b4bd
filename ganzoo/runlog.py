"""What a run reports while it trains: ``metrics.jsonl``, progress on stderr and optional TensorBoard.

Progress is a tqdm bar on a terminal; where stderr is not one (CI logs, ``nohup``, a pipe) carriage-return
redraws would pile up in the log, so it is one plain line per log interval instead.
"""

from __future__ import annotations

import json
import math
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, Mapping

from ganzoo.fileio import atomic_write_text

METRICS_FILE = "metrics.jsonl"


def truncate_metrics(path: Path, last_step: int) -> None:
    """Drop rows after ``last_step`` (written by a run that died after its last checkpoint)."""
    if not path.is_file():
        return
    kept = [line for line in path.read_text(encoding="utf-8").splitlines() if _step_of(line) <= last_step]
    atomic_write_text(path, "".join(line + "\n" for line in kept))


def _step_of(line: str) -> float:
    """The step of one ``metrics.jsonl`` row; a torn row (a process killed mid-write) counts as after every step."""
    try:
        return float(json.loads(line).get("step", 0))
    except (ValueError, AttributeError):
        return math.inf


def _json_value(value: Any) -> Any:
    return value if not isinstance(value, float) or math.isfinite(value) else str(value)


class RunLog:
    """Appends one JSON object per logged step (flushed at once), drives the progress bar and TensorBoard."""

    def __init__(self, run_dir: Path, start_step: int, total_steps: int, progress: bool, tensorboard: bool) -> None:
        self.path = run_dir / METRICS_FILE
        truncate_metrics(self.path, start_step)
        self.handle = open(self.path, "a", encoding="utf-8")
        self.bar = None
        self.plain_progress = progress and not _is_terminal(sys.stderr)
        self.total_steps = total_steps
        self._started = (time.perf_counter(), start_step)
        if progress and not self.plain_progress:
            from tqdm import tqdm

            self.bar = tqdm(total=total_steps, initial=start_step, unit="step", dynamic_ncols=True, file=sys.stderr)
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(run_dir / "tensorboard"))
            except (ImportError, ModuleNotFoundError):  # TensorBoard is optional
                self.writer = None

    def advance(self, steps: int = 1) -> None:
        """Move the progress bar (cheap: tqdm redraws at most a few times a second)."""
        if self.bar is not None:
            self.bar.update(steps)

    def log(self, step: int, row: Mapping[str, Any]) -> None:
        """Record ``row`` for ``step`` in every sink."""
        record = {"step": step, **{key: _json_value(value) for key, value in row.items()}}
        self.handle.write(json.dumps(record) + "\n")
        self.handle.flush()
        if self.bar is not None:
            shown = {key: f"{value:.3g}" for key, value in row.items()
                     if isinstance(value, float) and (key.startswith("loss") or key == "images_per_s")}
            self.bar.set_postfix(shown, refresh=False)
        if self.plain_progress:
            print(self._progress_line(step, row), file=sys.stderr, flush=True)
        if self.writer is not None:
            for key, value in row.items():
                if isinstance(value, (int, float)):
                    self.writer.add_scalar(key, value, step)

    def _progress_line(self, step: int, row: Mapping[str, Any]) -> str:
        """``step 500/1000 (50%) | loss_d 0.693 | loss_g 0.712 | 123 img/s | elapsed 0:01:02 | eta 0:01:02``"""
        parts = [f"step {step}/{self.total_steps} ({100 * step // max(self.total_steps, 1)}%)"]
        parts += [f"{key} {value:.4g}" for key, value in row.items() if key.startswith("loss") and isinstance(value, float)]
        if isinstance(row.get("images_per_s"), float):
            parts.append(f"{row['images_per_s']:.1f} img/s")
        seconds = time.perf_counter() - self._started[0]
        done = step - self._started[1]
        parts.append(f"elapsed {timedelta(seconds=round(seconds))}")
        if done > 0:
            parts.append(f"eta {timedelta(seconds=round(seconds / done * (self.total_steps - step)))}")
        return " | ".join(parts)

    def write(self, message: str) -> None:
        """Print a line without breaking the progress bar."""
        if self.bar is not None:
            self.bar.write(message, file=sys.stderr)
        else:
            print(message, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        if self.writer is not None:
            self.writer.close()
        self.handle.close()


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or exotic stream
        return False
