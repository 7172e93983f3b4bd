"""Fake entry points for testing plugin discovery without installing anything.

``PluginHost(entry_points=[fake_entry_point("mine", "my_tests.fake_plugin")])`` loads a module as if a
distribution had declared it in the ``ganzoo`` entry-point group.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata


@dataclass(frozen=True)
class FakeDistribution:
    """The two attributes of :class:`importlib.metadata.Distribution` that the plugin host reads."""

    name: str
    version: str = "0.0.1"


def fake_entry_point(name: str, value: str, distribution: str | None = None, version: str = "0.0.1") -> metadata.EntryPoint:
    """An entry point ``name = value`` in the ``ganzoo`` group, owned by a fake distribution."""
    entry_point = metadata.EntryPoint(name, value, "ganzoo")
    # EntryPoint is immutable; this is what importlib itself does in EntryPoint._for(dist)
    vars(entry_point).update(dist=FakeDistribution(distribution or f"fake-{name}", version))
    return entry_point
