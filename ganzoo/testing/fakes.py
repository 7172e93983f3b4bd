"""Fake entry points for testing plugin discovery without installing anything.

``PluginHost(entry_points=[fake_entry_point("mine", "my_tests.fake_plugin")])`` loads a module as if a
distribution had declared it in the ``ganzoo`` entry-point group.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any


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


def install_fake_plugin(source: str, name: str, folder: Path, monkeypatch: Any, strict: bool = True) -> Any:
    """Write ``source`` as a uniquely named module in ``folder``, load it as the only plugin (entry point ``name``,
    distribution ``ganzoo-plugin-NAME``) and make that host the process-wide one for the test.

    ``monkeypatch`` is pytest's fixture: the import path and the host are restored after the test.
    """
    import textwrap
    import uuid

    import ganzoo.plugins
    from ganzoo.plugins import PluginHost

    module = f"{name.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
    (Path(folder) / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.syspath_prepend(str(folder))
    host = PluginHost([fake_entry_point(name, module, f"ganzoo-plugin-{name}")], strict=strict, disabled=())
    monkeypatch.setattr(ganzoo.plugins, "_HOST", host)
    return host
