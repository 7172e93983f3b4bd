"""Installing plugins for real: pip into an isolated environment that holds only the ganzoo core.

The environment (fixture ``ganzoo_isolated_env`` from the conformance kit) is a venv that sees this
environment's packages through a view of its site-packages without the installed plugins, so nothing is
downloaded and torch is not copied.  Broken plugins are installed with ``pip --target`` next to the real ones.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ganzoo.testing.isolated import PIP_OFFLINE, IsolatedEnvironment

REPO = Path(__file__).resolve().parents[1]

BROKEN_PLUGINS = {
    "bad-import": "raise RuntimeError('this plugin cannot be imported')",
    "bad-argument": """
        from ganzoo import ModelConfig, ModelSpec, hookimpl
        GANZOO_API = ">=1"

        @hookimpl
        def ganzoo_register_models(register):
            register(ModelSpec(name="bad-argument-gan", task="unconditional", config_class=ModelConfig, paper="p", description="d"))

        @hookimpl
        def ganzoo_build_generator(model, cfg):
            return None
    """,
    "bad-hook": """
        from ganzoo import hookimpl
        GANZOO_API = ">=1"

        @hookimpl
        def ganzoo_register_modles(register):
            pass
    """,
}


def listed(env_result: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    assert env_result.returncode == 0, env_result.stderr
    return {row["name"] or row["entry_point"]: row for row in json.loads(env_result.stdout)}


def test_official_plugins_install_and_uninstall(ganzoo_isolated_env: IsolatedEnvironment) -> None:
    env = ganzoo_isolated_env
    assert listed(env.ganzoo("list", "--json")) == {}  # only the core: no models
    for name in ("dcgan", "ganzoo-plugin-wgan-gp"):  # by model name and by distribution name
        result = env.ganzoo("install", name, *PIP_OFFLINE)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "installed ganzoo-plugin-" in result.stdout
    rows = listed(env.ganzoo("list", "--json"))
    assert {name: row["status"] for name, row in rows.items()} == {"dcgan": "ok", "wgan-gp": "ok"}
    assert rows["dcgan"]["version"] == "0.1.0"
    assert env.ganzoo("info", "wgan-gp").returncode == 0
    env.pip("uninstall", "-y", "-q", "ganzoo-plugin-dcgan")
    assert set(listed(env.ganzoo("list", "--json"))) == {"wgan-gp"}
    env.pip("uninstall", "-y", "-q", "ganzoo-plugin-wgan-gp")
    assert listed(env.ganzoo("list", "--json")) == {}


@pytest.mark.slow  # ~8 s each: a pytest run inside the isolated environment
@pytest.mark.parametrize("plugin", ["dcgan", "wgan-gp", "ppgn", "lapgan", "infogan", "sagan", "biggan-lite"])
def test_each_official_plugin_passes_its_own_tests_when_installed_alone(
    ganzoo_isolated_env: IsolatedEnvironment, tmp_path: Path, plugin: str
) -> None:
    env = ganzoo_isolated_env
    source = tmp_path / plugin  # a copy: the tests must import the installed package, not the checkout
    shutil.copytree(REPO / "plugins" / plugin, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    env.pip("install", *PIP_OFFLINE, source)
    try:
        rows = listed(env.ganzoo("list", "--json"))  # only this plugin's models (lapgan also registers lapgan-cc, sagan sagan-uncond)
        assert plugin in rows and {row["plugin"] for row in rows.values()} == {f"ganzoo-plugin-{plugin}"}
        result = env.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=source, check=False,
                         env=env.environ(OMP_NUM_THREADS="1"))
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    finally:
        env.pip("uninstall", "-y", "-q", f"ganzoo-plugin-{plugin}")


def _write_package(root: Path, name: str, source: str) -> Path:
    module = "broken_" + name.replace("-", "_")
    package = root / name
    (package / module).mkdir(parents=True)
    (package / module / "__init__.py").write_text(textwrap.dedent(source))
    (package / "pyproject.toml").write_text(textwrap.dedent(f"""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "ganzoo-plugin-{name}"
        version = "9.8.7"

        [project.entry-points.ganzoo]
        {name} = "{module}"
    """))
    return package


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with three broken plugin distributions installed by pip (use it as PYTHONPATH)."""
    root = tmp_path_factory.mktemp("broken-plugins")
    packages = [_write_package(root / "src", name, source) for name, source in BROKEN_PLUGINS.items()]
    target = root / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--target", str(target), *PIP_OFFLINE, *map(str, packages)],
                   check=True, capture_output=True, text=True)
    return target


def ganzoo(site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {k: v for k, v in os.environ.items() if not k.startswith("GANZOO_")}
    variables.update(PYTHONPATH=str(site), **env)
    return subprocess.run([sys.executable, "-m", "ganzoo", *args], capture_output=True, text=True, env=variables, timeout=120)


def test_broken_plugins_are_reported_and_skipped(broken_site: Path) -> None:
    rows = listed(ganzoo(broken_site, "list", "--json"))
    for name in BROKEN_PLUGINS:
        row = rows[name]
        assert (row["status"], row["plugin"], row["version"]) == ("broken", f"ganzoo-plugin-{name}", "9.8.7")
    assert "this plugin cannot be imported" in rows["bad-import"]["error"]
    assert "PluginValidationError" in rows["bad-argument"]["error"] and "cfg" in rows["bad-argument"]["error"]
    assert "ganzoo_register_modles" in rows["bad-hook"]["error"] and "ganzoo_register_models" in rows["bad-hook"]["error"]
    assert rows["dcgan"]["status"] == rows["wgan-gp"]["status"] == "ok"  # everything else keeps working
    assert ganzoo(broken_site, "info", "dcgan", "--json").returncode == 0
    assert ganzoo(broken_site, "doctor", "--json").returncode == 1


def test_strict_mode_fails_naming_the_plugin(broken_site: Path) -> None:
    result = ganzoo(broken_site, "list", GANZOO_STRICT_PLUGINS="1")
    assert result.returncode == 2
    assert "plugin 'bad-argument' (ganzoo-plugin-bad-argument 9.8.7" in result.stderr


def test_disabled_plugins_are_not_loaded(broken_site: Path) -> None:
    result = ganzoo(broken_site, "list", "--json", GANZOO_DISABLE_PLUGINS="bad-import,ganzoo-plugin-bad-argument,bad-hook,dcgan",
                    GANZOO_STRICT_PLUGINS="1")
    rows = listed(result)
    assert {name for name, row in rows.items() if row["status"] == "disabled"} == {"bad-import", "bad-argument", "bad-hook", "dcgan"}
    assert rows["wgan-gp"]["status"] == "ok" and "dcgan" not in [row["name"] for row in rows.values()]
