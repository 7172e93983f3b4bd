"""Series: the entries of one protocol that differ only in their training seed, step by step.

A series is one model with one configuration (the training seed and bookkeeping settings aside).  Its
row on the board is its furthest-trained step, summarised over seeds as mean ± standard deviation and
ranked on the mean; its earlier steps (an untrained model is step 0) are its learning curve.  So several
seeds of one recipe are one row, and checkpoints picked by their test score never rank.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any, Sequence

from ganzoo.leaderboard.store import Entry

# train settings that never change what a run learns: runs differing only in these are the same recipe
_BOOKKEEPING = ("seed", "progress", "tensorboard", "log_every", "sample_every", "checkpoint_every",
                "keep_checkpoints", "sample_count")


def recipe_key(entry: Entry) -> str:
    """The model, plugin and config of ``entry`` without its seed and bookkeeping settings."""
    config = json.loads(json.dumps(entry.config))
    train = config.get("train")
    if isinstance(train, dict):
        for name in _BOOKKEEPING:
            train.pop(name, None)
    data = config.get("data")
    if isinstance(data, dict):
        data.pop("num_workers", None)
    return json.dumps([entry.model, entry.plugin, config], sort_keys=True)


def images_seen(entry: Entry) -> int | None:
    """Real training images drawn up to the entry's step: steps x batch size x batches per step (n_critic)."""
    train = entry.config.get("train") if isinstance(entry.config, dict) else None
    if entry.train_steps is None or not isinstance(train, dict):
        return None
    return int(entry.train_steps) * int(train.get("batch_size") or 1) * int(train.get("n_critic") or 1)


@dataclass
class Point:
    """The entries of one series at one training step (one per seed)."""

    step: int
    entries: list[Entry]

    @property
    def images(self) -> int | None:
        return images_seen(self.entries[0])

    def values(self, key: str) -> list[float]:
        return [float(e.metrics[key]) for e in self.entries if key in e.metrics]

    def mean(self, key: str) -> float | None:
        values = self.values(key)
        return statistics.fmean(values) if values else None

    def std(self, key: str) -> float | None:
        """Sample standard deviation over seeds (``None`` with fewer than two)."""
        values = self.values(key)
        return statistics.stdev(values) if len(values) > 1 else None


@dataclass
class Series:
    """One recipe under one protocol: its points by step, the last one being its row on the board."""

    model: str
    entries: list[Entry] = field(default_factory=list)

    @property
    def points(self) -> list[Point]:
        steps: dict[int, list[Entry]] = {}
        for entry in self.entries:
            steps.setdefault(int(entry.train_steps or 0), []).append(entry)
        return [Point(step, group) for step, group in sorted(steps.items())]

    @property
    def final(self) -> Point:
        """The furthest-trained step: what the board ranks."""
        return self.points[-1]

    @property
    def first(self) -> Entry:
        return self.final.entries[0]

    @property
    def seeds(self) -> list[Any]:
        return [(e.config.get("train") or {}).get("seed") for e in self.final.entries]

    def summary(self, key: str) -> tuple[float | None, float | None]:
        """Mean and standard deviation over seeds of metric ``key`` at the final step."""
        return self.final.mean(key), self.final.std(key)


def build_series(entries: Sequence[Entry]) -> list[Series]:
    """One protocol's entries grouped into series, in order of first appearance."""
    series: dict[str, Series] = {}
    for entry in entries:
        series.setdefault(recipe_key(entry), Series(entry.model)).entries.append(entry)
    return list(series.values())
