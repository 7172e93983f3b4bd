"""Plugin discovery with fake entry points: every way a plugin can fail is reported and contained."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path
from typing import Callable

import pytest

from ganzoo import hookspecs
from ganzoo.plugins import ModelConflictError, PluginError, PluginHost, UnknownNameError
from ganzoo.testing import fake_entry_point

GOOD = """
from ganzoo import ModelConfig, ModelSpec, hookimpl
GANZOO_API = ">=1.0,<2"

@hookimpl
def ganzoo_register_models(register):
    for name in {models!r}:
        register(ModelSpec(name=name, task="unconditional", config_class=ModelConfig, paper="p", description="d"))

@hookimpl
def ganzoo_build_generator(model, config):
    return "generator of " + model.name
"""

MakePlugin = Callable[..., object]


@pytest.fixture
def make_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakePlugin:
    """Write a plugin module and return a fake entry point for it (module names are unique per test)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    prefix = f"fake_plugin_{uuid.uuid4().hex[:8]}"

    def make(name: str, source: str, distribution: str | None = None, version: str = "1.2.3"):
        module = f"{prefix}_{name.replace('-', '_')}"
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(source))
        return fake_entry_point(name, module, distribution or f"ganzoo-plugin-{name}", version)

    return make


def good(models: list[str]) -> str:
    return GOOD.format(models=models)


def only(host: PluginHost, name: str):
    (record,) = [r for r in host.records if r.name == name]
    return record


def test_good_plugin_registers_and_dispatches(make_plugin: MakePlugin) -> None:
    host = PluginHost([make_plugin("alpha", good(["alpha-gan", "alpha-gan-2"]))], strict=False, disabled=())
    assert host.list_models("alpha*") == ["alpha-gan", "alpha-gan-2"]
    spec = host.get_model("alpha-gan-2")
    assert (spec.distribution, spec.version, spec.plugin) == ("ganzoo-plugin-alpha", "1.2.3", "alpha")
    assert host.call("ganzoo_build_generator", "alpha-gan-2", config=None) == "generator of alpha-gan-2"
    assert host.implements("alpha-gan", "ganzoo_build_generator")
    assert not host.implements("alpha-gan", "ganzoo_train_step")  # falls back to the core default
    record = only(host, "alpha")
    assert record.status == "ok" and record.models == ["alpha-gan", "alpha-gan-2"]


@pytest.mark.parametrize(
    ("source", "error_fragment"),
    [
        ("raise RuntimeError('boom at import')", "RuntimeError: boom at import"),
        ("import sys\nsys.exit(3)", "SystemExit"),
        ("import ganzoo_module_that_does_not_exist", "ganzoo_module_that_does_not_exist"),
    ],
    ids=["raises", "exits", "missing-dependency"],
)
def test_plugin_failing_at_import_is_broken_and_others_keep_working(make_plugin: MakePlugin, source: str, error_fragment: str) -> None:
    host = PluginHost([make_plugin("bad", source), make_plugin("alpha", good(["alpha-gan"]))], strict=False, disabled=())
    record = only(host, "bad")
    assert record.status == "broken" and error_fragment in record.error
    assert (record.distribution, record.version) == ("ganzoo-plugin-bad", "1.2.3")
    assert host.list_models() == ["alpha-gan"]


def test_unknown_hook_argument_fails_validation(make_plugin: MakePlugin) -> None:
    source = good(["typo-gan"]) + "\n@hookimpl\ndef ganzoo_build_discriminator(model, confg):\n    return None\n"
    host = PluginHost([make_plugin("typo", source)], strict=False, disabled=())
    record = only(host, "typo")
    assert record.status == "broken" and "PluginValidationError" in record.error and "confg" in record.error
    assert host.list_models() == []
    assert all(impl.plugin_name != "typo" for impl in host.manager.hook.ganzoo_register_models.get_hookimpls())


def test_failed_validation_leaves_no_hook_behind(make_plugin: MakePlugin) -> None:
    # pluggy adds implementations in name order and stops at the invalid one: the earlier ones must go too
    source = good(["late-gan"]) + "\n@hookimpl\ndef ganzoo_train_step(model, stat):\n    return None\n"
    host = PluginHost([make_plugin("late", source)], strict=False, disabled=())
    assert only(host, "late").status == "broken"
    leftovers = [name for name in hookspecs.HOOK_NAMES for impl in getattr(host.manager.hook, name).get_hookimpls() if impl.plugin_name == "late"]
    assert leftovers == [] and not host.manager.has_plugin("late")


def test_misspelled_hook_name_is_reported_with_a_suggestion(make_plugin: MakePlugin) -> None:
    source = good(["typo-gan"]) + "\n@hookimpl\ndef ganzoo_build_discriminater(model, config):\n    return None\n"
    host = PluginHost([make_plugin("typo", source)], strict=False, disabled=())
    record = only(host, "typo")
    assert record.status == "broken"
    assert "ganzoo_build_discriminater" in record.error and "'ganzoo_build_discriminator'" in record.error
    assert host.list_models() == []
    assert "typo" not in {name for name, _ in host.manager.list_name_plugin()}


def test_a_duplicated_model_name_is_a_conflict_naming_both_distributions(make_plugin: MakePlugin) -> None:
    first = make_plugin("aaa", good(["shared-gan"]), distribution="dist-first")
    second = make_plugin("bbb", good(["shared-gan", "other-gan"]), distribution="dist-second")
    host = PluginHost([second, first], strict=False, disabled=(), prefer={})
    with pytest.raises(ModelConflictError, match="registered by both dist-first .* and dist-second") as info:
        host.get_model("shared-gan")  # no silent winner, whatever the loading order
    assert "GANZOO_PREFER=shared-gan=" in str(info.value) and "GANZOO_DISABLE_PLUGINS" in str(info.value)
    assert only(host, "aaa").status == only(host, "bbb").status == "ok"
    assert host.get_model("other-gan").distribution == "dist-second"  # the plugin's other models still work
    rows = [row for row in host.model_records() if row["name"] == "shared-gan"]
    assert sorted(row["plugin"] for row in rows) == ["dist-first", "dist-second"]
    assert {row["status"] for row in rows} == {"conflict"}


@pytest.mark.parametrize("preferred", ["dist-first", "dist-second"])
def test_a_preference_setting_decides_a_conflict(make_plugin: MakePlugin, monkeypatch: pytest.MonkeyPatch,
                                                 preferred: str) -> None:
    first = make_plugin("aaa", good(["shared-gan"]), distribution="dist-first")
    second = make_plugin("bbb", good(["shared-gan"]), distribution="dist-second")
    monkeypatch.setenv("GANZOO_PREFER", f"shared-gan={preferred}")
    host = PluginHost([first, second], strict=False, disabled=())
    assert host.get_model("shared-gan").distribution == preferred
    assert not host.conflicts
    disabled = PluginHost([first, second], strict=False, disabled=["dist-first"], prefer={})
    assert disabled.get_model("shared-gan").distribution == "dist-second"


def test_duplicate_model_name_inside_one_plugin(make_plugin: MakePlugin) -> None:
    host = PluginHost([make_plugin("twice", good(["same", "same"]))], strict=False, disabled=())
    assert only(host, "twice").status == "broken" and host.list_models() == []


@pytest.mark.parametrize(
    ("declaration", "fragment"),
    [("GANZOO_API = '>=3,<4'", "supports ganzoo API >=3,<4"), ("GANZOO_API = 'one'", "not a version specifier"), ("", "does not declare")],
    ids=["too-new", "malformed", "missing"],
)
def test_api_version_mismatch_is_refused(make_plugin: MakePlugin, declaration: str, fragment: str) -> None:
    source = good(["api-gan"]).replace('GANZOO_API = ">=1.0,<2"', declaration)
    host = PluginHost([make_plugin("api", source)], strict=False, disabled=())
    record = only(host, "api")
    assert record.status == "broken" and fragment in record.error
    assert host.list_models() == []


def test_exception_during_registration_registers_nothing(make_plugin: MakePlugin) -> None:
    source = """
    from ganzoo import ModelConfig, ModelSpec, hookimpl
    GANZOO_API = ">=1"

    @hookimpl
    def ganzoo_register_models(register):
        register(ModelSpec(name="half-gan", task="unconditional", config_class=ModelConfig, paper="p", description="d"))
        raise ValueError("registration failed halfway")
    """
    host = PluginHost([make_plugin("half", source)], strict=False, disabled=())
    assert "registration failed halfway" in only(host, "half").error
    assert host.list_models() == []
    assert not [impl for impl in host.manager.hook.ganzoo_register_models.get_hookimpls() if impl.plugin_name == "half"]


def test_invalid_spec_and_wrong_objects_are_reported(make_plugin: MakePlugin) -> None:
    bad_task = good(["x-gan"]).replace('task="unconditional"', 'task="video"')
    wrong_object = """
    from ganzoo import hookimpl
    GANZOO_API = ">=1"

    @hookimpl
    def ganzoo_register_models(register):
        register({"name": "dict-gan"})
    """
    host = PluginHost([make_plugin("task", bad_task), make_plugin("obj", wrong_object)], strict=False, disabled=())
    assert "task 'video' is not one of" in only(host, "task").error
    assert "expects a ganzoo.specs.ModelSpec, got dict" in only(host, "obj").error


def test_loss_registration_and_duplicate_loss(make_plugin: MakePlugin) -> None:
    template = """
    from ganzoo import LossSpec, hookimpl
    GANZOO_API = ">=1"

    @hookimpl
    def ganzoo_register_losses(register):
        register(LossSpec({name!r}, lambda: "loss object", "a loss"))
    """
    host = PluginHost(
        [make_plugin("newloss", template.format(name="relativistic")), make_plugin("clash", template.format(name="hinge"))],
        strict=False,
        disabled=(),
    )
    assert host.get_loss("relativistic").factory() == "loss object"
    assert host.get_loss("relativistic").plugin == "ganzoo-plugin-newloss"
    assert "loss 'hinge' is already registered by ganzoo" in only(host, "clash").error


def test_entry_point_name_clash(make_plugin: MakePlugin) -> None:
    first = make_plugin("same", good(["one-gan"]), distribution="dist-one")
    second = fake_entry_point("same", make_plugin("other", good(["two-gan"])).value, "dist-two")
    host = PluginHost([first, second], strict=False, disabled=())
    assert host.list_models() == ["one-gan"]
    broken = [r for r in host.records if r.status == "broken"]
    assert len(broken) == 1 and "already used by dist-one" in broken[0].error


def test_strict_mode_raises_naming_the_plugin(make_plugin: MakePlugin, monkeypatch: pytest.MonkeyPatch) -> None:
    entry_points = [make_plugin("alpha", good(["alpha-gan"])), make_plugin("bad", "raise ImportError('no torch here')")]
    with pytest.raises(PluginError, match=r"plugin 'bad' \(ganzoo-plugin-bad 1.2.3.*no torch here"):
        PluginHost(entry_points, strict=True, disabled=())
    monkeypatch.setenv("GANZOO_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError):
        PluginHost(entry_points, disabled=())


def test_disabling_by_entry_point_or_distribution(make_plugin: MakePlugin, monkeypatch: pytest.MonkeyPatch) -> None:
    entry_points = [
        make_plugin("alpha", good(["alpha-gan"])),
        make_plugin("beta", good(["beta-gan"])),
        make_plugin("gamma", good(["gamma-gan"])),
    ]
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "alpha, Ganzoo_Plugin.gamma")  # distribution names are normalised
    host = PluginHost(entry_points)
    assert host.list_models() == ["beta-gan"]
    assert only(host, "alpha").status == only(host, "gamma").status == "disabled"
    # a disabled broken plugin is not even imported, so strict mode does not trip over it
    PluginHost([make_plugin("bad", "raise RuntimeError")], strict=True, disabled=["bad"])


def test_unknown_names_suggest_close_ones(make_plugin: MakePlugin) -> None:
    host = PluginHost([make_plugin("alpha", good(["alpha-gan"])), make_plugin("bad", "raise RuntimeError")], strict=False, disabled=())
    with pytest.raises(UnknownNameError, match=r"did you mean 'alpha-gan'.*broken plugins: bad"):
        host.get_model("alpa-gan")
    with pytest.raises(UnknownNameError, match="did you mean 'hinge'"):
        host.get_loss("hinje")
    with pytest.raises(PluginError, match="did you mean 'ganzoo_sample'"):
        host.call("ganzoo_sampel", "alpha-gan")


def test_model_records_include_broken_plugins(make_plugin: MakePlugin) -> None:
    host = PluginHost([make_plugin("alpha", good(["alpha-gan"])), make_plugin("bad", "raise RuntimeError('x')")], strict=False, disabled=())
    rows = {row["entry_point"]: row for row in host.model_records()}
    assert rows["alpha"]["name"] == "alpha-gan" and rows["alpha"]["status"] == "ok"
    assert rows["bad"]["status"] == "broken" and rows["bad"]["plugin"] == "ganzoo-plugin-bad" and "x" in rows["bad"]["error"]


def test_installed_official_plugins_load() -> None:
    host = PluginHost(strict=False, disabled=())
    assert only(host, "dcgan").status == only(host, "wgan-gp").status == "ok"
    assert {"dcgan", "wgan-gp"} <= set(host.list_models())
    assert {"non-saturating", "hinge", "wgan-gp"} <= set(host.list_losses())


def test_a_plugin_printing_at_import_cannot_write_to_stdout(make_plugin: MakePlugin, capfd: pytest.CaptureFixture[str]) -> None:
    noisy = make_plugin("noisy", "import os, sys\nprint('hello from import')\nos.write(1, b'raw fd write\\n')\n"
                        + good(["noisy-gan"]))
    host = PluginHost([noisy], strict=False, disabled=())
    assert host.list_models() == ["noisy-gan"]
    out, err = capfd.readouterr()
    assert out == "" and "hello from import" in err and "raw fd write" in err
