"""Installing catalogued plugins: the catalogue with install status (``ganzoo registry``) and ``ganzoo install``.

Errors are :class:`InstallError` (a ``ValueError``) naming the plugin and what is wrong.
"""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from typing import Any, Iterable


class InstallError(ValueError):
    """A plugin that cannot be installed as asked (planned, incompatible, no local source, pip failed)."""


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def registry_rows(path: str | None = None) -> list[dict[str, Any]]:
    """The catalogue's entries with ``installed`` (version or None), ``compatible`` and the plugin status."""
    from ganzoo._version import __version__
    from ganzoo.catalogue import load_catalogue
    from ganzoo.plugins import canonical_name, get_host

    statuses = {canonical_name(r.distribution): r.status for r in get_host().records}
    catalogue = load_catalogue(path)
    rows = []
    for entry in catalogue.entries:
        installed = installed_version(entry.distribution)
        rows.append({
            **entry.model_dump(mode="json"),
            "installed": installed,
            "plugin_status": statuses.get(canonical_name(entry.distribution)),
            "compatible": entry.supports(__version__),
            "local_source": str(catalogue.source_path(entry) or "") or None,
        })
    return rows


def install_command_line(name: str, registry: str | None = None, editable: bool = False, pip_args: Iterable[str] = ()) -> list[str]:
    """The pip command that installs the plugin ``name`` resolves to in the catalogue."""
    from ganzoo._version import __version__
    from ganzoo.catalogue import load_catalogue

    catalogue = load_catalogue(registry)
    entry = catalogue.find(name)
    if entry.status == "planned":
        raise InstallError(f"{entry.distribution} ({', '.join(entry.models)}) is planned but not built yet")
    if not entry.supports(__version__):
        raise InstallError(f"{entry.distribution} supports ganzoo {entry.core}, this is ganzoo {__version__}")
    local = catalogue.source_path(entry)
    if local is not None:
        target = str(local)
    elif entry.source.startswith("git+"):
        target = entry.source
    else:
        target = entry.distribution
    if editable and local is None:
        raise InstallError(f"--editable needs a local source; {entry.distribution} comes from {target}")
    extra = [arg for arg in pip_args if arg != "--"]
    return [sys.executable, "-m", "pip", "install", *(["-e"] if editable else []), target, *extra]


def install_plugin(
    name: str, registry: str | None = None, editable: bool = False, pip_args: Iterable[str] = (), dry_run: bool = False
) -> int:
    """Resolve ``name`` through the catalogue, pip-install it (printing the command) and check that it loads.

    Returns 0 when the plugin loads, 1 when it installed but is broken; pip failures raise ``InstallError``.
    """
    command = install_command_line(name, registry, editable, pip_args)
    print("$ " + " ".join(command), flush=True)
    if dry_run:
        return 0
    result = subprocess.run(command)
    if result.returncode:
        raise InstallError(f"pip failed with exit status {result.returncode} (command above)")
    return _report_installed(name, registry)


def _report_installed(name: str, registry: str | None) -> int:
    import importlib

    from ganzoo.catalogue import load_catalogue
    from ganzoo.plugins import canonical_name, get_host, reset_host

    entry = load_catalogue(registry).find(name)
    importlib.invalidate_caches()
    reset_host()
    records = [r for r in get_host().records if canonical_name(r.distribution) == canonical_name(entry.distribution)]
    if not records:
        print(f"{entry.distribution} was installed outside this environment's search path; run `ganzoo list` there")
        return 0
    for record in records:
        if record.status != "ok":
            print(f"{entry.distribution} installed but its plugin {record.name!r} is {record.status}: {record.error}", file=sys.stderr)
            return 1
        print(f"installed {record.distribution} {record.version}: models {', '.join(record.models)}")
    return 0
