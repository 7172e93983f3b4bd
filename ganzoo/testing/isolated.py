"""Throw-away virtual environments for testing plugin installation for real.

:class:`IsolatedEnvironment` creates a venv (without pip or any copy of torch) that sees the packages of the
current environment through a *view* of its site-packages: a folder of symlinks to every entry except the
distributions that declare ``ganzoo`` entry points (the installed plugins).  Inside it only the core is
installed, so ``pip install ./plugins/dcgan`` there is what makes ``dcgan`` appear.  Creating one takes a
fraction of a second; it works wherever the current environment is a venv or a plain interpreter.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from importlib import metadata
from pathlib import Path
from typing import Sequence

from ganzoo.fileio import atomic_write_text

PIP_OFFLINE = ("--no-deps", "--no-build-isolation", "--no-index", "--disable-pip-version-check", "-q")
"""pip options for installing a local project quickly, without network access."""

_CLEARED_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "GANZOO_STRICT_PLUGINS", "GANZOO_DISABLE_PLUGINS", "GANZOO_REGISTRY", "VIRTUAL_ENV")


def plugin_distribution_entries(site_dir: Path) -> set[str]:
    """Top-level names in ``site_dir`` that belong to distributions declaring ``ganzoo`` entry points."""
    excluded: set[str] = set()
    for dist in metadata.distributions(path=[str(site_dir)]):
        if not any(ep.group == "ganzoo" for ep in dist.entry_points):
            continue
        info_dir = getattr(dist, "_path", None)
        if info_dir is not None:
            excluded.add(Path(info_dir).name)
        for file in dist.files or []:
            top = file.parts[0] if file.parts else ""
            if top and top not in ("..", "__pycache__"):
                excluded.add(top)
    return excluded


class IsolatedEnvironment:
    """A venv under ``root`` with the current environment's packages but none of its ganzoo plugins."""

    def __init__(self, root: str | Path, site_dirs: Sequence[str | Path] | None = None) -> None:
        self.root = Path(root)
        self.prefix = self.root / "venv"
        self.view = self.root / "parent-site-packages"
        paths = sysconfig.get_paths()
        self.parent_sites = [Path(p) for p in (site_dirs or dict.fromkeys([paths["purelib"], paths["platlib"]]))]

    @property
    def python(self) -> Path:
        """The environment's interpreter."""
        return self.prefix / ("Scripts/python.exe" if os.name == "nt" else "bin/python")

    def create(self) -> "IsolatedEnvironment":
        """Create the venv and the view of the parent's site-packages; returns ``self``."""
        venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt", clear=True).create(self.prefix)
        self.view.mkdir(parents=True, exist_ok=True)
        for site_dir in self.parent_sites:
            excluded = plugin_distribution_entries(site_dir)
            for entry in site_dir.iterdir():
                link = self.view / entry.name
                if entry.name not in excluded and not link.exists():
                    link.symlink_to(entry, target_is_directory=entry.is_dir())
        # a .pth line starting with "import" runs at start-up: addsitedir also processes the parent's .pth
        # files (editable installs of ganzoo itself), which a plain path line would not
        own_site = Path(self.run_python("import sysconfig; print(sysconfig.get_paths()['purelib'])").strip())
        own_site.mkdir(parents=True, exist_ok=True)
        atomic_write_text(own_site / "_ganzoo_parent_packages.pth", f"import site; site.addsitedir({str(self.view)!r})\n")
        return self

    def environ(self, **extra: str) -> dict[str, str]:
        """Environment variables for commands run inside (plugin switches and PYTHONPATH cleared)."""
        env = {k: v for k, v in os.environ.items() if k not in _CLEARED_VARIABLES}
        env.update({"VIRTUAL_ENV": str(self.prefix), "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"})
        env.update(extra)
        return env

    def run(self, *args: str | Path, check: bool = True, env: dict[str, str] | None = None, cwd: str | Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``python ARGS...`` inside; ``check`` raises with the output when it fails."""
        command = [str(self.python), *map(str, args)]
        result = subprocess.run(command, capture_output=True, text=True, env=env or self.environ(), cwd=cwd, timeout=timeout)
        if check and result.returncode:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def run_python(self, code: str) -> str:
        """Run Python ``code`` inside and return its standard output."""
        return self.run("-c", code).stdout

    def pip(self, *args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``python -m pip ARGS...`` inside (pip comes from the parent environment)."""
        return self.run("-m", "pip", *args, check=check)

    def ganzoo(self, *args: str | Path, check: bool = False, **extra_env: str) -> subprocess.CompletedProcess[str]:
        """``python -m ganzoo ARGS...`` inside, with extra environment variables."""
        return self.run("-m", "ganzoo", *args, check=check, env=self.environ(**extra_env))


def create_isolated_environment(root: str | Path) -> IsolatedEnvironment:
    """Create an :class:`IsolatedEnvironment` under ``root``."""
    return IsolatedEnvironment(root).create()


if __name__ == "__main__":  # pragma: no cover - manual use: python -m ganzoo.testing.isolated DIR
    print(create_isolated_environment(sys.argv[1]).python)
