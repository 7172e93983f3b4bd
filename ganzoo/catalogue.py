"""The catalogue of known plugins (``registry.toml``), validated with pydantic.

The file lists the official plugins and third-party ones (added by pull request).  ``ganzoo registry``
shows it, ``ganzoo install NAME`` resolves names through it.  A malformed file is a :class:`CatalogueError`
naming the file, the line and the field.

Lookup order for the file: the ``path`` argument, ``$GANZOO_REGISTRY``, then ``registry.toml`` shipped inside
the ``ganzoo`` package (a link to the repository's root file in a checkout).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ganzoo.specs import TaskKind
from ganzoo.plugins import canonical_name, suggest

REGISTRY_ENV = "GANZOO_REGISTRY"
PACKAGED_REGISTRY = Path(__file__).with_name("registry.toml")
_DISTRIBUTION_PATTERN = r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$"
_MODEL_PATTERN = r"^[a-z][a-z0-9_.-]*$"


class CatalogueError(ValueError):
    """``registry.toml`` is missing, not TOML, or has an invalid entry (the message names line and field)."""


class CatalogueEntry(BaseModel):
    """One plugin distribution in the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    distribution: str = Field(pattern=_DISTRIBUTION_PATTERN, description="the name pip installs")
    models: list[str] = Field(min_length=1, description="model names the plugin registers")
    task: TaskKind = Field(description="what the models do")
    paper: str = Field(min_length=1, description="reference of the paper implemented")
    summary: str = Field(min_length=1, description="one line for `ganzoo registry`")
    core: str = Field(description="supported ganzoo core versions, a PEP 440 specifier such as '>=0.1,<0.2'")
    source: str = Field(min_length=1, description="a path relative to registry.toml (official plugins) or a URL")
    status: Literal["available", "planned", "deprecated"] = "available"
    official: bool = False
    license: str = "MIT"

    @field_validator("models")
    @classmethod
    def _model_names(cls, models: list[str]) -> list[str]:
        bad = [name for name in models if not re.match(_MODEL_PATTERN, name)]
        if bad:
            raise ValueError(f"invalid model name(s) {bad}: use lower-case letters, digits, '_', '-', '.'")
        return models

    @field_validator("core")
    @classmethod
    def _specifier(cls, value: str) -> str:
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise ValueError(f"{value!r} is not a version specifier (e.g. '>=0.1,<0.2')") from None
        return value

    @property
    def is_url(self) -> bool:
        """True when ``source`` is a URL rather than a path inside this repository."""
        return "://" in self.source or self.source.startswith("git+")

    def supports(self, core_version: str) -> bool:
        """True when this plugin declares support for ``core_version`` of ganzoo."""
        return core_version in SpecifierSet(self.core)


class Catalogue(BaseModel):
    """The whole ``registry.toml``: a list of ``[[plugin]]`` tables."""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    plugin: list[CatalogueEntry] = Field(default_factory=list)
    path: Path | None = Field(default=None, exclude=True)

    @property
    def entries(self) -> list[CatalogueEntry]:
        """Every entry, in file order."""
        return list(self.plugin)

    def source_path(self, entry: CatalogueEntry) -> Path | None:
        """The local directory of ``entry``'s source when it exists next to this catalogue (a checkout)."""
        if entry.is_url or self.path is None:
            return None
        candidate = (self.path.resolve().parent / entry.source).resolve()
        return candidate if (candidate / "pyproject.toml").is_file() else None

    def find(self, name: str) -> CatalogueEntry:
        """The entry whose distribution or one of whose models is ``name`` (close names are suggested)."""
        wanted = canonical_name(name)
        for entry in self.plugin:
            if wanted == canonical_name(entry.distribution) or name in entry.models:
                return entry
        names = [model for entry in self.plugin for model in entry.models] + [e.distribution for e in self.plugin]
        raise CatalogueError(f"{name!r} is not in the catalogue {self.path or ''}{suggest(name, names)}".replace(" ;", ";"))


def default_path() -> Path:
    """Where the catalogue is read from when no path is given."""
    return Path(os.environ.get(REGISTRY_ENV) or PACKAGED_REGISTRY)


def _line_of(text: str, index: int, field: str | None) -> int | None:
    """1-based line of ``field`` in the ``index``-th ``[[plugin]]`` table (or of the table header)."""
    lines = text.splitlines()
    headers = [i for i, line in enumerate(lines) if re.match(r"^\s*\[\[\s*plugin\s*\]\]", line)]
    if index >= len(headers):
        return None
    start = headers[index]
    end = headers[index + 1] if index + 1 < len(headers) else len(lines)
    if field:
        for i in range(start, end):
            if re.match(rf"^\s*{re.escape(field)}\s*=", lines[i]):
                return i + 1
    return start + 1


def _describe(exc: ValidationError, text: str, path: Path) -> str:
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        if len(loc) >= 2 and loc[0] == "plugin" and isinstance(loc[1], int):
            field = str(loc[2]) if len(loc) > 2 else None
            line = _line_of(text, loc[1], field)
            where = f"line {line}, " if line else ""
            label = f"[[plugin]] #{loc[1] + 1} field {field!r}" if field else f"[[plugin]] #{loc[1] + 1}"
            if err["type"] == "missing":
                where = f"line {_line_of(text, loc[1], None)}, "
            got = "" if err["type"] in ("missing", "extra_forbidden") else f" (got {err.get('input')!r})"
            problems.append(f"{path}: {where}{label}: {err['msg']}{got}")
        else:
            problems.append(f"{path}: field {'.'.join(map(str, loc))!r}: {err['msg']}")
    return "invalid plugin catalogue:\n  " + "\n  ".join(problems)


def parse_catalogue(text: str, path: Path | str = "registry.toml") -> Catalogue:
    """Validate catalogue text; errors name the file, line and field."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{path} is not valid TOML: {exc}") from None
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as exc:
        raise CatalogueError(_describe(exc, text, path)) from None
    seen: dict[str, str] = {}
    for number, entry in enumerate(catalogue.plugin):
        for key in (canonical_name(entry.distribution), *entry.models):
            if key in seen:
                line = _line_of(text, number, "models" if key in entry.models else "distribution")
                raise CatalogueError(f"{path}: line {line}: {key!r} appears twice (also in {seen[key]})")
            seen[key] = entry.distribution
    catalogue.path = path
    return catalogue


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate the catalogue (see the module docstring for where it is looked for)."""
    path = Path(path) if path is not None else default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(
            f"plugin catalogue {path} does not exist; set {REGISTRY_ENV} to the path of a registry.toml"
        ) from None
    return parse_catalogue(text, path)
