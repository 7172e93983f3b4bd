"""ganzoo: a plugin-based GAN model zoo for PyTorch.

Importing ganzoo is cheap (no torch import); heavy entry points are loaded on first use::

    import ganzoo
    ganzoo.list_models("*gan*")
    spec = ganzoo.get_model("dcgan")
"""

from __future__ import annotations

from typing import Any

from ganzoo._version import API_VERSION, __version__
from ganzoo.config import ConfigError, DataConfig, ModelConfig, RunConfig, TrainConfig, resolve_config
from ganzoo.hookspecs import hookimpl
from ganzoo.plugins import get_host, reset_host
from ganzoo.specs import LossSpec, ModelSpec

__all__ = [
    "API_VERSION",
    "ConfigError",
    "DataConfig",
    "LossSpec",
    "ModelConfig",
    "ModelSpec",
    "RunConfig",
    "TrainConfig",
    "__version__",
    "get_model",
    "hookimpl",
    "list_losses",
    "list_models",
    "load_catalogue",
    "make_config",
    "plugin_records",
    "reset_host",
    "resolve_config",
]


def list_models(pattern: str = "*", task: str | None = None) -> list[str]:
    """Names of installed models matching a wildcard pattern, optionally of one task kind."""
    return get_host().list_models(pattern, task)


def get_model(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of an installed model (unknown names suggest close ones)."""
    return get_host().get_model(name)


def list_losses() -> list[str]:
    """Names of the registered adversarial losses (usable by any model as ``train.loss``)."""
    return get_host().list_losses()


def load_catalogue(path: str | None = None) -> Any:
    """The plugin catalogue (``registry.toml``) as a validated :class:`ganzoo.catalogue.Catalogue`."""
    from ganzoo.catalogue import load_catalogue as load

    return load(path)


def plugin_records() -> list[dict[str, Any]]:
    """Every discovered plugin with its status (``ok``, ``broken``, ``disabled``) and error."""
    return [record.as_dict() for record in get_host().records]


def make_config(model_name: str, overrides: tuple[str, ...] | list[str] = (), /, **sections: dict[str, Any]) -> RunConfig:
    """Resolve a run config: ``make_config("dcgan", ["train.steps=10"], model={"ngf": 8})``."""
    return resolve_config(get_model(model_name), values=sections, overrides=overrides)


_LAZY = {
    "build_state": ("ganzoo.state", "build_state"),
    "GANState": ("ganzoo.state", "GANState"),
    "train": ("ganzoo.trainer", "train"),
    "Trainer": ("ganzoo.trainer", "Trainer"),
    "load_run": ("ganzoo.checkpoint", "load_run"),
    # the plugin commands (`ganzoo info`, `registry`, `install`, `new-plugin`, `doctor`) from Python
    "model_info": ("ganzoo.inventory", "model_info"),
    "registry": ("ganzoo.install", "registry_rows"),
    "install_plugin": ("ganzoo.install", "install_plugin"),
    "new_plugin": ("ganzoo.templates", "render_plugin"),
    "doctor": ("ganzoo.diagnostics", "doctor_report"),
}


def __getattr__(name: str) -> Any:  # lazy heavy exports (PEP 562)
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        return getattr(importlib.import_module(module_name), attr)
    raise AttributeError(f"module 'ganzoo' has no attribute {name!r}")
