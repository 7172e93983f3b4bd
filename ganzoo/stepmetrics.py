"""Train-step metrics kept on the device, read by the host only when someone needs them.

Reading a CUDA tensor (``float(loss)``, ``loss.item()``, ``if torch.isnan(loss)``) waits for every queued
kernel: doing it each step leaves the accelerator idle while Python prepares the next one.  The trainer
hands each step's metrics to :class:`DeviceMetrics`, which stacks them into one device vector and keeps the
divergence guard (the first non-finite step and its values) on the device too; :meth:`DeviceMetrics.read`
copies everything to the host in one transfer, once per log interval or checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch


@dataclass
class NonFinite:
    """The first step at which a metric was NaN or infinite, and the metrics of that step."""

    step: int
    values: dict[str, float]

    @property
    def culprits(self) -> dict[str, float]:
        """The non-finite metrics of that step."""
        return {name: value for name, value in self.values.items() if value != value or abs(value) == float("inf")}


class DeviceMetrics:
    """The latest step's metrics and a divergence guard, as device tensors (no host synchronisation per step).

    A step may return Python floats (API-1 plugins) or 0-dim tensors; both are accepted.  When the set of
    metric names changes between steps, the pending values are read first (a rare host read).
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.names: tuple[str, ...] = ()
        self._latest: torch.Tensor | None = None
        self._seen_bad: torch.Tensor | None = None
        self._bad_step: torch.Tensor | None = None
        self._bad_values: torch.Tensor | None = None
        self._found: NonFinite | None = None
        self._last_read: dict[str, float] = {}

    def record(self, step: int, metrics: Mapping[str, Any]) -> None:
        """Fold one step's metrics in (device operations only)."""
        names = tuple(metrics)
        if names != self.names:
            if self._latest is not None:
                self.read()  # keep what the old names saw before starting over
            self._start(names)
        if not names:
            return
        vector = torch.stack([self._as_tensor(value) for value in metrics.values()])
        finite = torch.isfinite(vector).all()
        assert self._seen_bad is not None and self._bad_step is not None and self._bad_values is not None
        first = self._seen_bad.logical_not() & finite.logical_not()
        self._bad_values = torch.where(first, vector, self._bad_values)
        self._bad_step = torch.where(first, torch.full_like(self._bad_step, step), self._bad_step)
        self._seen_bad = self._seen_bad | finite.logical_not()
        self._latest = vector

    def read(self) -> tuple[dict[str, float], NonFinite | None]:
        """The latest metrics as floats and the first non-finite step, if any (one host read, two if diverged)."""
        if self._latest is None or self._seen_bad is None:
            return dict(self._last_read), self._found
        values = torch.cat([self._latest, self._seen_bad.float().reshape(1)]).tolist()
        self._last_read = dict(zip(self.names, values[:-1]))
        if values[-1] and self._found is None:
            assert self._bad_step is not None and self._bad_values is not None
            self._found = NonFinite(int(self._bad_step.tolist()), dict(zip(self.names, self._bad_values.tolist())))
        return dict(self._last_read), self._found

    def _start(self, names: tuple[str, ...]) -> None:
        self.names = names
        self._latest = None
        if not names:
            return
        self._seen_bad = torch.zeros((), dtype=torch.bool, device=self.device)
        self._bad_step = torch.zeros((), dtype=torch.long, device=self.device)
        self._bad_values = torch.zeros(len(names), device=self.device)

    def _as_tensor(self, value: Any) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            return value.detach().to(self.device, torch.float32, non_blocking=True).reshape(())
        return torch.tensor(float(value), dtype=torch.float32).to(self.device, non_blocking=True)
