"""docs/plugins.md documents every hook (with its current signature), the nine variants, the commands and the API."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import ganzoo
from ganzoo import hookspecs
from ganzoo.testing import ConformanceSuite

DOCS = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text(encoding="utf-8")
VARIANTS = ("dcgan", "wgan-gp", "infogan", "sagan", "biggan-lite", "lapgan", "pix2pix", "cyclegan", "ppgn")


@pytest.mark.parametrize("hook", hookspecs.HOOK_NAMES)
def test_every_hookspec_is_documented_with_its_signature(hook: str) -> None:
    arguments = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"### `{hook}({arguments})`" in DOCS, f"docs/plugins.md needs a section '### `{hook}({arguments})`'"


def test_every_variant_is_mapped_onto_the_hooks() -> None:
    rows = {line.split("|")[1].strip(): line for line in DOCS.splitlines() if line.startswith("| ") and line.count("|") >= 8}
    for variant in VARIANTS:
        assert variant in rows, f"the variant table has no row for {variant}"
        assert re.search(r"\| (built|in progress|planned) \|", rows[variant])


def test_plugin_commands_and_python_api_are_documented() -> None:
    for command in ("list", "info", "registry", "install", "new-plugin", "doctor"):
        assert f"`ganzoo {command}" in DOCS
    for name in ("list_models", "get_model", "list_losses", "plugin_records", "load_catalogue"):
        assert f"ganzoo.{name}(" in DOCS and name in ganzoo.__all__
    for switch in ("GANZOO_STRICT_PLUGINS", "GANZOO_DISABLE_PLUGINS", "GANZOO_API"):
        assert switch in DOCS


def test_every_conformance_check_is_documented() -> None:
    for check in (name for name in dir(ConformanceSuite) if name.startswith("test_")):
        assert f"`{check}`" in DOCS, f"docs/plugins.md does not describe the kit's {check}"
