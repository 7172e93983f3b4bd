"""The record of one evaluation, shared by ``ganzoo bench`` and the leaderboard (no torch import)."""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel


class BenchResult(BaseModel):
    """One evaluation: metric values, the protocol they were measured under, and provenance."""

    model: str
    task: str
    plugin: str
    plugin_version: str
    ganzoo_version: str
    dataset: str
    protocol_name: str
    protocol_hash: str
    protocol: dict[str, Any]
    metric_set: list[str]
    metrics: dict[str, float]
    num_samples: int
    reference_size: int | None = None
    config: dict[str, Any]
    config_hash: str
    checkpoint_hash: str
    checkpoint_path: str | None = None
    run_dir: str | None = None
    train_steps: int | None = None
    train_seconds: float | None = None
    hardware: dict[str, Any]
    eval_seconds: float | None = None
    recorded_at: str
    sample_png_base64: str | None = None

    def sample_png(self) -> bytes | None:
        """The sample grid as PNG bytes (``None`` when none was made)."""
        return base64.b64decode(self.sample_png_base64) if self.sample_png_base64 else None

    @property
    def metric_key(self) -> str:
        """The metric set as stored in the leaderboard's unique key (sorted, comma-separated)."""
        return ",".join(sorted(self.metric_set))
