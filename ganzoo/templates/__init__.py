"""Templates shipped as package data; :func:`render_plugin` writes a new plugin package (``ganzoo new-plugin``)."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from string import Template

from ganzoo._version import API_VERSION, __version__
from ganzoo.fileio import atomic_write_text

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")  # used with fullmatch: a trailing newline is no name
# PEP 508 project names (fullmatch): nothing else can reach the generated pyproject.toml
_DISTRIBUTION = re.compile(r"[A-Z0-9]([A-Z0-9._-]*[A-Z0-9])?", re.IGNORECASE)
# template file -> path in the generated package ($module is replaced)
PLUGIN_FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
    "package_init.py.tmpl": "$module/__init__.py",
    "plugin.py.tmpl": "$module/plugin.py",
    "test_conformance.py.tmpl": "tests/test_conformance.py",
    "test_model.py.tmpl": "tests/test_$module.py",
}
LOSS_PLUGIN_FILES = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "loss_README.md.tmpl": "README.md",
    "gitignore.tmpl": ".gitignore",
    "package_init.py.tmpl": "$module/__init__.py",
    "loss_plugin.py.tmpl": "$module/plugin.py",
    "loss_module.py.tmpl": "$module/loss.py",
    "test_conformance.py.tmpl": "tests/test_conformance.py",
    "test_loss.py.tmpl": "tests/test_$module.py",
}
TEMPLATE_KINDS = {"model": PLUGIN_FILES, "loss": LOSS_PLUGIN_FILES}
"""``ganzoo new-plugin --kind``: a model plugin, or a loss-only plugin."""


def plugin_variables(name: str, distribution: str | None = None, kind: str = "model") -> dict[str, str]:
    """The values substituted into the plugin templates for model (or loss) ``name``."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"plugin name {name!r} is invalid: use lower-case letters and digits separated by '-' (e.g. my-gan)")
    if distribution is not None and not _DISTRIBUTION.fullmatch(distribution):
        raise ValueError(f"--distribution {distribution!r} is invalid: a Python package name is letters, digits, "
                         "'.', '_' and '-', starting and ending with a letter or digit (e.g. ganzoo-plugin-my-gan)")
    major, minor = (int(part) for part in __version__.split(".")[:2])
    api_major = int(API_VERSION.split(".")[0])
    core_range = f">={major}.{minor},<{major}.{minor + 1}" if major == 0 else f">={major}.{minor},<{major + 1}"
    return {
        "name": name,
        "module": "ganzoo_" + name.replace("-", "_"),
        "distribution": distribution or f"ganzoo-plugin-{name}",
        "class_prefix": "".join(part.capitalize() for part in name.split("-")),
        "api": f">={API_VERSION},<{api_major + 1}",
        "core": core_range,
        "summary": f"The {name} {'adversarial loss' if kind == 'loss' else 'GAN'} for ganzoo",
    }


def render_plugin(
    name: str, target: str | Path, distribution: str | None = None, force: bool = False, kind: str = "model"
) -> list[Path]:
    """Write a complete plugin package for model (``kind="loss"``: loss) ``name`` into ``target``.

    Returns the files written.  Refuses a non-empty ``target`` unless ``force``.
    """
    if kind not in TEMPLATE_KINDS:
        raise ValueError(f"unknown plugin kind {kind!r} (allowed: {', '.join(TEMPLATE_KINDS)})")
    target = Path(target)
    if target.exists() and any(target.iterdir()) and not force:
        raise FileExistsError(f"{target} is not empty; choose another --dir or pass --force")
    variables = plugin_variables(name, distribution, kind)
    templates = resources.files("ganzoo.templates.plugin")
    written = []
    for template_name, relative in TEMPLATE_KINDS[kind].items():
        text = Template(templates.joinpath(template_name).read_text(encoding="utf-8")).substitute(variables)
        path = target / Template(relative).substitute(variables)
        atomic_write_text(path, text)
        written.append(path)
    return written
