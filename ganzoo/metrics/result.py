"""The record of one evaluation, shared by ``ganzoo bench`` and the leaderboard (no torch import)."""

from __future__ import annotations

import base64
from typing import Any

from pydantic import BaseModel, Field

# reference images that may also be in a run's training data before its result is refused (natural duplicates)
OVERLAP_TOLERANCE = 0.01


class IneligibleResultError(ValueError):
    """A result that must not be ranked: the run trained on the protocol's reference images."""


def ineligibility(overlap: int | None, reference_size: int | None, trained_on: str, evaluated_on: str) -> str | None:
    """Why a run that saw ``overlap`` of the ``reference_size`` reference images in training cannot be ranked."""
    if not overlap or not reference_size or overlap <= OVERLAP_TOLERANCE * reference_size:
        return None
    return (f"it was trained on {trained_on}, which holds {overlap} of the {reference_size} reference images "
            f"({evaluated_on}); a model scored on its own training images cannot be ranked: train on another split "
            "(data.split=train)")


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
    training_overlap: int | None = Field(
        None, description="reference images also found in the run's training data (None: not checked, untrained)"
    )
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
    loss: str | None = Field(None, description="the adversarial loss the run trained with (train.loss)")
    loss_plugin: str | None = Field(None, description="the distribution that provided that loss ('ganzoo': the core)")

    def sample_png(self) -> bytes | None:
        """The sample grid as PNG bytes (``None`` when none was made)."""
        return base64.b64decode(self.sample_png_base64) if self.sample_png_base64 else None

    def check_eligible(self) -> None:
        """Raise :class:`IneligibleResultError` when the run trained on too many of the reference images."""
        data = self.config.get("data") or {}
        reason = ineligibility(self.training_overlap, self.reference_size,
                               f"{data.get('dataset')}/{data.get('split')}",
                               f"{self.dataset}/{self.protocol.get('split')}")
        if reason:
            raise IneligibleResultError(f"cannot record {self.model} ({self.run_dir or self.checkpoint_hash[:16]}) "
                                        f"under protocol {self.protocol_name}: {reason}")

    @property
    def metric_key(self) -> str:
        """The metric set as stored in the leaderboard's unique key (sorted, comma-separated)."""
        return ",".join(sorted(self.metric_set))
