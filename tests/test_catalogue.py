"""registry.toml: valid, in step with plugins/, and malformed files give errors naming line and field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ganzoo.catalogue import CatalogueError, default_path, load_catalogue, parse_catalogue

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "registry.toml"
ENTRY = """
[[plugin]]
distribution = "ganzoo-plugin-x"
models = ["x-gan"]
task = "unconditional"
paper = "A paper"
summary = "A model"
core = ">=0.1,<0.2"
source = "plugins/x"
"""


def local_plugin_dirs() -> set[str]:
    return {path.parent.name for path in (REPO / "plugins").glob("*/pyproject.toml")}


def test_repository_catalogue_is_valid_and_is_the_packaged_one() -> None:
    catalogue = load_catalogue(REGISTRY)
    assert catalogue.entries
    assert default_path().resolve() == REGISTRY.resolve()  # ganzoo/registry.toml links to the root file


def test_every_plugin_directory_is_catalogued_with_matching_metadata() -> None:
    catalogue = load_catalogue(REGISTRY)
    by_source = {entry.source: entry for entry in catalogue.entries}
    for name in local_plugin_dirs():
        entry = by_source.get(f"plugins/{name}")
        assert entry is not None, f"plugins/{name} is missing from registry.toml"
        assert entry.status == "available" and entry.official, f"plugins/{name} exists: mark it available and official"
        project = tomllib.loads((REPO / "plugins" / name / "pyproject.toml").read_text())["project"]
        assert entry.distribution == project["name"], f"registry.toml distribution for plugins/{name}"
        assert "ganzoo" in project.get("entry-points", {}), f"plugins/{name} declares no ganzoo entry point"


def test_every_available_official_entry_exists_locally() -> None:
    catalogue = load_catalogue(REGISTRY)
    for entry in catalogue.entries:
        if entry.status == "available" and entry.source.startswith("plugins/"):
            assert catalogue.source_path(entry) is not None, f"{entry.distribution}: {entry.source} does not exist"


def test_the_nine_official_variants_are_listed() -> None:
    models = {model for entry in load_catalogue(REGISTRY).entries if entry.official for model in entry.models}
    nine = {"dcgan", "wgan-gp", "infogan", "sagan", "biggan-lite", "lapgan", "pix2pix", "cyclegan", "ppgn"}
    # lapgan's plugin also registers CC-LAPGAN, sagan's the unconditional SAGAN
    assert nine <= models and models - nine == {"lapgan-cc", "sagan-uncond"}


def test_installed_models_are_what_the_catalogue_says() -> None:
    from ganzoo.plugins import get_host

    host = get_host()
    for entry in load_catalogue(REGISTRY).entries:
        record = next((r for r in host.records if r.distribution == entry.distribution and r.status == "ok"), None)
        if record is not None:
            assert sorted(record.models) == sorted(entry.models), f"{entry.distribution} registers {record.models}"


def test_lookup_by_model_or_distribution_with_suggestions() -> None:
    catalogue = load_catalogue(REGISTRY)
    assert catalogue.find("dcgan").distribution == "ganzoo-plugin-dcgan"
    assert catalogue.find("ganzoo_plugin_wgan_gp").models == ["wgan-gp"]
    with pytest.raises(CatalogueError, match="did you mean 'dcgan'"):
        catalogue.find("dcgn")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (('task = "unconditional"', 'task = "video"'), "line 13, [[plugin]] #2 field 'task'"),
        (('core = ">=0.1,<0.2"', 'core = "zero point one"'), "line 16, [[plugin]] #2 field 'core': Value error, 'zero point one' is not a version specifier"),
        (('models = ["x-gan"]', 'models = []'), "line 12, [[plugin]] #2 field 'models'"),
        (('paper = "A paper"', 'papers = "A paper"'), "field 'papers': Extra inputs are not permitted"),
        (('paper = "A paper"\n', ''), "line 10, [[plugin]] #2 field 'paper': Field required"),
        (('source = "plugins/x"', 'source = plugins/x'), "is not valid TOML"),
        (('models = ["x-gan"]', 'models = ["Bad Name"]'), "invalid model name"),
    ],
    ids=["task", "core", "no-models", "unknown-field", "missing-field", "not-toml", "model-name"],
)
def test_malformed_catalogue_names_line_and_field(change: tuple[str, str], fragment: str) -> None:
    first = ENTRY.replace("ganzoo-plugin-x", "ganzoo-plugin-y").replace("x-gan", "y-gan")
    text = first.lstrip("\n") + ENTRY.replace(*change)
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(text, "my-registry.toml")
    assert "my-registry.toml" in str(info.value) and fragment in str(info.value)


def test_malformed_catalogue_names_the_bad_value() -> None:
    with pytest.raises(CatalogueError) as info:
        parse_catalogue(ENTRY.replace('task = "unconditional"', 'task = "video"'), "my-registry.toml")
    assert "field 'task'" in str(info.value) and "(got 'video')" in str(info.value)


def test_duplicate_model_names_are_refused() -> None:
    with pytest.raises(CatalogueError, match="'x-gan' appears twice"):
        parse_catalogue(ENTRY + ENTRY.replace("ganzoo-plugin-x", "ganzoo-plugin-z"))


def test_missing_catalogue_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GANZOO_REGISTRY", str(tmp_path / "nowhere.toml"))
    with pytest.raises(CatalogueError, match="GANZOO_REGISTRY"):
        load_catalogue()
