"""Plugin discovery and dispatch.

Plugins are found through the ``ganzoo`` entry-point group.  Each one is loaded, validated and asked to
register its models inside its own guard: a plugin that fails is recorded as ``broken`` (entry point,
distribution, version, error) and skipped, and every other plugin keeps working.  ``GANZOO_STRICT_PLUGINS=1``
turns such failures into errors; ``GANZOO_DISABLE_PLUGINS=a,b`` skips plugins by entry-point or
distribution name.

Two plugins that register the same model name never pick a winner silently: the name is reported as a
conflict (``ganzoo list``, ``ganzoo doctor``) and cannot be used until one plugin is disabled or
``GANZOO_PREFER=MODEL=DISTRIBUTION[,...]`` names the distribution that provides it.

Nothing here imports torch: listing models stays fast.
"""

from __future__ import annotations

import contextlib
import difflib
import fnmatch
import os
import re
import sys
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable, Iterable, Iterator, Mapping

import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ganzoo import hookspecs
from ganzoo._version import API_VERSION, SUPPORTED_API_VERSIONS, __version__
from ganzoo.specs import AugmentationSpec, CommandSpec, DatasetSpec, LossSpec, ModelSpec

ENTRY_POINT_GROUP = "ganzoo"
STRICT_ENV = "GANZOO_STRICT_PLUGINS"
DISABLE_ENV = "GANZOO_DISABLE_PLUGINS"
PREFER_ENV = "GANZOO_PREFER"
API_ATTRIBUTE = "GANZOO_API"
CORE_PLUGIN_NAME = "ganzoo-core"


class PluginError(RuntimeError):
    """A plugin could not be loaded, validated or registered (raised only in strict mode)."""


class PluginContractError(PluginError, TypeError):
    """A model's plugin hook raised, or returned something other than its hook promises; the message names the
    plugin, the hook and what was expected."""


class PluginValueError(PluginContractError, ValueError):
    """A plugin hook refused a value (its ``ValueError``), re-raised naming the plugin and hook."""


class ModelConflictError(PluginError):
    """A model name that more than one installed plugin registers, with no preference set."""


class UnknownNameError(KeyError):
    """A model or loss name that no installed plugin provides; the message suggests close names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass
class PluginRecord:
    """What ``ganzoo list`` and ``ganzoo doctor`` report about one entry point."""

    name: str
    distribution: str
    version: str
    status: str = "ok"  # ok | broken | disabled
    error: str = ""
    models: list[str] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    entry_point: str = ""
    plugin: Any = None
    api: int = int(API_VERSION.split(".")[0])
    extensions: dict[str, list[str]] = field(default_factory=dict)  # kind (dataset, protocol, ...) -> names

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready description (without the loaded plugin object)."""
        return {
            "name": self.name,
            "entry_point": self.entry_point,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "error": self.error,
            "models": list(self.models),
            "losses": list(self.losses),
            "api": self.api,
            **{f"{kind}s": list(names) for kind, names in self.extensions.items()},
        }


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout meanwhile to stderr: ``print`` and writes to file descriptor 1."""
    sys.stdout.flush()
    saved_fd = None
    try:
        saved_fd = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no real descriptors (embedded interpreters): sys.stdout alone is redirected
        saved_fd = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def canonical_name(name: str) -> str:
    """PEP 503 normalised distribution name (``Ganzoo_Plugin.DCGAN`` -> ``ganzoo-plugin-dcgan``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _env_list(name: str) -> set[str]:
    return {part.strip() for part in os.environ.get(name, "").split(",") if part.strip()}


def _env_preferences() -> dict[str, str]:
    """``GANZOO_PREFER=dcgan=ganzoo-plugin-dcgan,other=dist`` -> ``{"dcgan": "ganzoo-plugin-dcgan", ...}``."""
    pairs = (part.split("=", 1) for part in _env_list(PREFER_ENV) if "=" in part)
    return {model.strip(): distribution.strip() for model, distribution in pairs}


def suggest(name: str, candidates: Iterable[str]) -> str:
    """A ``did you mean`` suffix for an unknown name (empty when nothing is close)."""
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.5)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


class PluginHost:
    """The loaded plugins, the models and losses they registered, and hook dispatch by model name."""

    def __init__(
        self,
        entry_points: Iterable[metadata.EntryPoint] | None = None,
        strict: bool | None = None,
        disabled: Iterable[str] | None = None,
        prefer: dict[str, str] | None = None,
    ) -> None:
        self.strict = _env_flag(STRICT_ENV) if strict is None else strict
        self.disabled = {canonical_name(n) for n in (_env_list(DISABLE_ENV) if disabled is None else disabled)}
        self.manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.manager.add_hookspecs(hookspecs)
        self.records: list[PluginRecord] = []
        self._models: dict[str, ModelSpec] = {}
        self._model_owner: dict[str, Any] = {}
        self._losses: dict[str, LossSpec] = {}
        self.prefer = {k: canonical_name(v) for k, v in (_env_preferences() if prefer is None else prefer).items()}
        self._candidates: dict[str, list[tuple[ModelSpec, Any]]] = {}  # every registration of each model name
        self.conflicts: dict[str, list[ModelSpec]] = {}  # names more than one plugin registers, unresolved
        self._extensions: dict[str, dict[str, Any]] = {kind: {} for kind in EXTENSION_HOOKS}
        self._protocol_owner: dict[str, str] = {}
        self._register_core()
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
        with stdout_to_stderr():  # a plugin that prints while loading must not corrupt `--json` output
            for ep in sorted(eps, key=lambda e: e.name):
                self._load_entry_point(ep)
        self._settle_model_names()

    # -- loading -----------------------------------------------------------------------------------
    def _register_core(self) -> None:
        from ganzoo import builtin

        record = PluginRecord(CORE_PLUGIN_NAME, "ganzoo", __version__, plugin=builtin)
        self._register(record, builtin)
        self.records.append(record)

    def _load_entry_point(self, ep: metadata.EntryPoint) -> None:
        dist = getattr(ep, "dist", None)
        record = PluginRecord(ep.name, dist.name if dist else "?", dist.version if dist else "?")
        record.entry_point = ep.value
        self.records.append(record)
        if {canonical_name(ep.name), canonical_name(record.distribution)} & self.disabled:
            record.status = "disabled"
            record.error = f"disabled by {DISABLE_ENV}"
            return
        try:
            self._check_name_free(record)
            plugin = ep.load()
            record.api = self._check_api(plugin)
            self._register(record, plugin)
        except (Exception, SystemExit) as exc:  # a plugin may fail in any way; it must not take the others down
            record.status = "broken"
            record.error = f"{type(exc).__name__}: {exc}".strip()
            record.models, record.losses, record.extensions = [], [], {}
            if self.strict:
                raise PluginError(
                    f"plugin {ep.name!r} ({record.distribution} {record.version}, entry point "
                    f"{ep.value!r}) failed: {record.error}"
                ) from exc
            record.error += "\n" + traceback.format_exc(limit=-3).rstrip() if os.environ.get("GANZOO_DEBUG") else ""

    def _check_name_free(self, record: PluginRecord) -> None:
        owner = next((r for r in self.records if r is not record and r.name == record.name and r.status == "ok"), None)
        if owner is not None:
            raise PluginError(
                f"entry point name {record.name!r} is already used by {owner.distribution} {owner.version}; "
                "uninstall one of them or disable it with " + DISABLE_ENV
            )

    @staticmethod
    def _check_api(plugin: Any) -> int:
        """The major API version to speak with ``plugin``: the newest supported one its declaration includes."""
        declared = getattr(plugin, API_ATTRIBUTE, None)
        if declared is None:
            raise PluginError(
                f"it does not declare the ganzoo API versions it supports (set {API_ATTRIBUTE} = "
                f"'>={API_VERSION.split('.')[0]},<{int(API_VERSION.split('.')[0]) + 1}' in the plugin module)"
            )
        try:
            supported = SpecifierSet(str(declared))
        except InvalidSpecifier as exc:
            raise PluginError(f"{API_ATTRIBUTE} = {declared!r} is not a version specifier") from exc
        spoken = [version for version in SUPPORTED_API_VERSIONS if version in supported]
        if not spoken:
            raise PluginError(
                f"it supports ganzoo API {declared}, but this ganzoo speaks API {', '.join(SUPPORTED_API_VERSIONS)}, "
                "all outside that range; upgrade the plugin or install a matching ganzoo"
            )
        return int(spoken[-1].split(".")[0])

    def _register(self, record: PluginRecord, plugin: Any) -> None:
        name = record.name
        try:
            self.manager.register(plugin, name=name)  # raises PluginValidationError for unknown hook arguments
        except Exception:
            if self.manager.has_plugin(name) and self.manager.get_plugin(name) is plugin:
                self.manager.unregister(plugin)  # pluggy < 1.6 keeps the implementations added before the bad one
            raise
        try:
            self._check_unknown_hooks(plugin)
            models: list[ModelSpec] = []
            losses: list[LossSpec] = []
            self._call_own(plugin, "ganzoo_register_models", register=models.append)
            self._call_own(plugin, "ganzoo_register_losses", register=losses.append)
            extensions = {kind: self._broadcast_own(plugin, hook) for kind, (hook, _) in EXTENSION_HOOKS.items()}
            self._check_extensions(record, extensions)
            self._accept(record, plugin, models, losses)
            self._accept_extensions(record, extensions)
        except Exception:
            self.manager.unregister(plugin)
            raise
        record.plugin = plugin

    def _broadcast_own(self, plugin: Any, hook_name: str) -> list[Any]:
        """Run one plugin's implementation of a broadcast hook through pluggy, collecting what it registers."""
        collected: list[Any] = []
        others = [p for p in self.manager.get_plugins() if p is not plugin]
        caller = self.manager.subset_hook_caller(hook_name, remove_plugins=others)
        caller(register=collected.append)
        return collected

    def _check_extensions(self, record: PluginRecord, extensions: Mapping[str, list[Any]]) -> None:
        for kind, items in extensions.items():
            expected = EXTENSION_HOOKS[kind][1]()
            names = [getattr(item, "name", None) for item in items]
            for item in items:
                if not isinstance(item, expected):
                    raise PluginError(
                        f"{EXTENSION_HOOKS[kind][0]}: register() expects a {expected.__module__}.{expected.__name__}, "
                        f"got {type(item).__name__}"
                    )
                owner = self._extensions[kind].get(item.name)
                if owner is not None or names.count(item.name) > 1:
                    by = (self.extension_plugin(kind, item.name) if owner is not None else "") or "this plugin"
                    raise PluginError(f"{kind} {item.name!r} is already registered by {by}")

    def _accept_extensions(self, record: PluginRecord, extensions: Mapping[str, list[Any]]) -> None:
        for kind, items in extensions.items():
            for item in items:
                if kind == "protocol":  # protocols are frozen pydantic models: their owner is kept beside them
                    self._protocol_owner[item.name] = record.distribution
                else:
                    item.plugin = record.distribution
                self._extensions[kind][item.name] = item
            if items:
                record.extensions[kind] = [item.name for item in items]

    def _check_unknown_hooks(self, plugin: Any) -> None:
        unknown = [
            caller.name for caller in self.manager.get_hookcallers(plugin) or [] if caller.spec is None
        ]
        if unknown:
            raise PluginError(
                f"unknown hook(s) {', '.join(sorted(unknown))}"
                + "".join(suggest(u, hookspecs.HOOK_NAMES) for u in unknown)
            )

    def _accept(self, record: PluginRecord, plugin: Any, models: list[ModelSpec], losses: list[LossSpec]) -> None:
        for spec in models:
            if not isinstance(spec, ModelSpec):
                raise PluginError(f"register() expects a ganzoo.specs.ModelSpec, got {type(spec).__name__}")
            if [m.name for m in models].count(spec.name) > 1:
                raise PluginError(f"model {spec.name!r} is registered twice by this plugin")
        for loss in losses:
            if not isinstance(loss, LossSpec):
                raise PluginError(f"register() expects a ganzoo.specs.LossSpec, got {type(loss).__name__}")
            if loss.name in self._losses or [other.name for other in losses].count(loss.name) > 1:
                owner = self._losses[loss.name].plugin if loss.name in self._losses else record.distribution
                raise PluginError(f"loss {loss.name!r} is already registered by {owner}")
        own_step = self._impl(plugin, "ganzoo_train_step") is not None
        for spec in models:
            spec.plugin, spec.distribution, spec.version = record.name, record.distribution, record.version
            spec.api = record.api
            spec.honoured_step_settings = honoured_step_settings(spec, own_step)
            self._candidates.setdefault(spec.name, []).append((spec, plugin))
        for loss in losses:
            loss.plugin = record.distribution
            self._losses[loss.name] = loss
        record.models = [m.name for m in models]
        record.losses = [loss.name for loss in losses]

    def _settle_model_names(self) -> None:
        """Each model name goes to its only plugin, or to the preferred one; other duplicates stay conflicts."""
        self._models.clear()
        self._model_owner.clear()
        self.conflicts.clear()
        for name, candidates in self._candidates.items():
            chosen = candidates if len(candidates) == 1 else [
                c for c in candidates if canonical_name(c[0].distribution) == self.prefer.get(name)
            ]
            if len(chosen) == 1:
                self._models[name], self._model_owner[name] = chosen[0]
            else:
                self.conflicts[name] = [spec for spec, _ in candidates]

    def _conflict_error(self, name: str) -> ModelConflictError:
        providers = self.conflicts[name]
        listed = " and ".join(f"{spec.distribution} {spec.version} (entry point {spec.plugin!r})" for spec in providers)
        preferred = self.prefer.get(name)
        why = f"; {PREFER_ENV} names {preferred!r}, which is not one of them" if preferred else ""
        return ModelConflictError(
            f"model {name!r} is registered by both {listed}{why}: ganzoo will not pick one. Uninstall or disable one "
            f"({DISABLE_ENV}={providers[-1].distribution}) or choose with {PREFER_ENV}={name}={providers[0].distribution}"
        )

    # -- dispatch ----------------------------------------------------------------------------------
    def _impl(self, plugin: Any, hook_name: str) -> pluggy.HookImpl | None:
        caller = getattr(self.manager.hook, hook_name, None)
        if caller is None or caller.spec is None:
            raise PluginError(f"{hook_name!r} is not a ganzoo hook{suggest(hook_name, hookspecs.HOOK_NAMES)}")
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin:
                return impl
        return None

    def _call_own(self, plugin: Any, hook_name: str, **kwargs: Any) -> Any:
        impl = self._impl(plugin, hook_name)
        if impl is None:
            return None
        return impl.function(*(kwargs[arg] for arg in impl.argnames))

    def implements(self, model: ModelSpec | str, hook_name: str) -> bool:
        """True when the plugin that owns ``model`` overrides ``hook_name``."""
        spec = self.get_model(model) if isinstance(model, str) else model
        return self._impl(self._model_owner[spec.name], hook_name) is not None

    def call(self, hook_name: str, model: ModelSpec | str, **kwargs: Any) -> Any:
        """Call ``hook_name`` for ``model``: its plugin's implementation, else the core default.

        Keyword arguments are the hook's arguments other than ``model``; ones left out arrive as ``None``.
        """
        spec = self.get_model(model) if isinstance(model, str) else model
        kwargs["model"] = spec
        impl = self._impl(self._model_owner[spec.name], hook_name)
        if impl is not None:  # arguments a caller leaves out arrive as None (hooks only ever gain arguments)
            self._check_arguments(spec, hook_name, impl, kwargs)
            result = self._invoke(spec, hook_name, impl, kwargs)
            if result is not None:
                return result
            if spec.api >= 2:
                raise PluginError(
                    f"{hook_name} of plugin {spec.distribution or spec.plugin!r} (model {spec.name!r}) returned None; "
                    "an implemented hook must return its result (API 2 never falls back to the core default)"
                )
        from ganzoo import defaults

        default: Callable[..., Any] | None = defaults.DEFAULTS.get(hook_name)
        if default is None:
            raise PluginError(
                f"model {spec.name!r} (plugin {spec.distribution}) must implement {hook_name}; the core has no default"
            )
        return default(**kwargs)

    @staticmethod
    def _check_arguments(spec: ModelSpec, hook_name: str, impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> None:
        """A value the caller chose that the implementation cannot receive would be silently ignored: refuse it."""
        watched = set(kwargs) - CONTEXT_ARGUMENTS if spec.api >= 2 else API1_HONOURED_ARGUMENTS
        ignored = sorted(arg for arg in watched if kwargs.get(arg) is not None and arg not in impl.argnames)
        if ignored:
            raise PluginError(
                f"model {spec.name!r}: {hook_name} of plugin {spec.distribution or spec.plugin!r} does not accept "
                f"{', '.join(repr(a) for a in ignored)}, so the value given would be ignored; leave it out "
                f"(the model cannot honour it) or add the argument to the plugin's {hook_name}"
            )

    @staticmethod
    def _invoke(spec: ModelSpec, hook_name: str, impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
        arguments = [kwargs.get(arg) for arg in impl.argnames]
        try:
            if hook_name == "ganzoo_sample" and spec.api < 2:  # API-1 samplers were always called under no_grad
                import torch

                with torch.no_grad():
                    result = impl.function(*arguments)
            else:
                result = impl.function(*arguments)
        except Exception as exc:
            if type(exc).__module__.split(".")[0] == "ganzoo":  # the core's own errors are already clear
                raise
            what = " ".join(str(exc).split())[:300] or "(no message)"
            error = PluginValueError if isinstance(exc, ValueError) else PluginContractError
            raise error(
                f"{hook_name} of plugin {_plugin_name(spec)} (model {spec.name!r}) failed: {type(exc).__name__}: {what}"
            ) from exc
        return result


    # -- queries -----------------------------------------------------------------------------------
    def list_models(self, pattern: str = "*", task: str | None = None) -> list[str]:
        """Sorted model names matching a shell-style wildcard (``*gan*``), optionally of one task kind."""
        return sorted(
            name
            for name, spec in self._models.items()
            if fnmatch.fnmatchcase(name, pattern) and (task is None or spec.task == task)
        )

    def get_model(self, name: str) -> ModelSpec:
        """The spec registered under ``name``; an unknown name raises with the closest suggestions."""
        try:
            return self._models[name]
        except KeyError:
            if name in self.conflicts:
                raise self._conflict_error(name) from None
            hint = suggest(name, self._models) or (
                f"; installed models: {', '.join(sorted(self._models))}" if self._models else "; no models are installed"
            )
            broken = [r.name for r in self.records if r.status == "broken"]
            extra = f" (broken plugins: {', '.join(broken)}; see `ganzoo list`)" if broken else ""
            raise UnknownNameError(f"unknown model {name!r}{hint}{extra}") from None

    def get_loss(self, name: str) -> LossSpec:
        """The loss registered under ``name``; an unknown name raises naming the allowed ones."""
        try:
            return self._losses[name]
        except KeyError:
            raise UnknownNameError(
                f"unknown loss {name!r}{suggest(name, self._losses)} (available: {', '.join(sorted(self._losses))})"
            ) from None

    def list_losses(self) -> list[str]:
        """Sorted names of every registered loss."""
        return sorted(self._losses)

    def extensions(self, kind: str) -> dict[str, Any]:
        """Registered ``kind`` (``dataset``, ``protocol``, ``augmentation``, ``command``) by name, in order."""
        return dict(self._extensions[kind])

    def get_extension(self, kind: str, name: str) -> Any:
        """The ``kind`` registered under ``name``; an unknown name raises naming the allowed ones."""
        try:
            return self._extensions[kind][name]
        except KeyError:
            known = self._extensions[kind]
            raise UnknownNameError(
                f"unknown {kind} {name!r}{suggest(name, known)} (available: {', '.join(known) or 'none'})"
            ) from None

    def extension_plugin(self, kind: str, name: str) -> str:
        """The distribution that registered a dataset/protocol/augmentation/command (``ganzoo`` for the core's)."""
        if kind == "protocol":
            return self._protocol_owner.get(name, "")
        return getattr(self._extensions[kind].get(name), "plugin", "")

    def model_records(self) -> list[dict[str, Any]]:
        """One row per model, per loss or extension a plugin adds, plus one per broken plugin (for ``ganzoo list``).

        Rows have ``kind``: ``model``, ``loss``, ``dataset``, ``protocol``, ``augmentation`` or ``command``
        (``task`` is set for models only), so loss-only and dataset-only plugins are listed too.
        """
        rows: list[dict[str, Any]] = []
        for record in self.records:
            if record.name == CORE_PLUGIN_NAME:
                continue
            if record.status != "ok":
                rows.append(
                    {"name": None, "plugin": record.distribution, "entry_point": record.name,
                     "version": record.version, "task": None, "status": record.status, "error": record.error}
                )
                continue
            for model_name in record.models:
                spec = next(s for s, _ in self._candidates[model_name] if s.plugin == record.name)
                chosen = self._models.get(model_name) is spec
                error = "" if chosen else (str(self._conflict_error(model_name)) if model_name in self.conflicts
                                           else f"not used: {PREFER_ENV} prefers {self._models[model_name].distribution}")
                rows.append(
                    {"name": model_name, "kind": "model", "plugin": record.distribution, "entry_point": record.name,
                     "version": record.version, "task": spec.task, "status": "ok" if chosen else "conflict",
                     "error": error, "description": spec.description}
                )
            contributions = [("loss", name, self._losses[name].description) for name in record.losses] + [
                (kind, name, _describe(self._extensions[kind][name]))
                for kind, names in record.extensions.items() for name in names
            ]
            for kind, name, description in contributions:
                rows.append(
                    {"name": name, "kind": kind, "plugin": record.distribution, "entry_point": record.name,
                     "version": record.version, "task": None, "status": "ok", "error": "", "description": description}
                )
        return rows


CONTEXT_ARGUMENTS = {"model", "state", "config", "networks", "generator_names", "roles", "batches", "batch", "role",
                     "context"}
"""Hook arguments that inform an implementation (it may leave them out); every other argument is a caller's choice."""
API1_HONOURED_ARGUMENTS = {"truncation", "latents"}
"""Arguments an API-1 implementation must accept when a caller sets them (the others it may ignore, as before)."""


def honoured_step_settings(spec: ModelSpec, own_step: bool) -> tuple[str, ...] | None:
    """The step-only train settings a model honours; ``None``: not checked (an API-1 model with its own step)."""
    from ganzoo.specs import STEP_SETTINGS

    if not own_step:
        return STEP_SETTINGS if spec.train_settings is None else tuple(spec.train_settings)
    if spec.train_settings is not None:
        return tuple(spec.train_settings)
    return () if spec.api >= 2 else None


def _describe(item: Any) -> str:
    if isinstance(item, CommandSpec):
        return item.help
    if isinstance(item, (DatasetSpec, AugmentationSpec)):
        return item.description
    return f"{item.dataset}/{item.split} {item.image_size}px, {item.num_samples} samples, {item.feature_extractor}"


def _protocol_class() -> type:
    from ganzoo.metrics.protocol import Protocol

    return Protocol


EXTENSION_HOOKS: dict[str, tuple[str, Callable[[], type]]] = {
    "dataset": ("ganzoo_register_datasets", lambda: DatasetSpec),
    "protocol": ("ganzoo_register_protocols", _protocol_class),
    "augmentation": ("ganzoo_register_augmentations", lambda: AugmentationSpec),
    "command": ("ganzoo_register_commands", lambda: CommandSpec),
}
"""Extension kinds, each with its broadcast hook and the class that hook's ``register`` accepts."""


_HOST: PluginHost | None = None


def get_host() -> PluginHost:
    """The process-wide plugin host, loaded on first use."""
    global _HOST
    if _HOST is None:
        _HOST = PluginHost()
    return _HOST


def reset_host() -> None:
    """Forget loaded plugins (after installing or uninstalling one in the same process, or in tests)."""
    global _HOST
    _HOST = None


def _plugin_name(spec: ModelSpec) -> str:
    return spec.distribution or spec.plugin or "?"


def _is_mapping(value: Any) -> bool:
    return isinstance(value, Mapping)


def _is_tensor(value: Any) -> bool:
    import torch

    return isinstance(value, torch.Tensor)


def _is_tensor_or_columns(value: Any) -> bool:
    return _is_tensor(value) or (isinstance(value, (list, tuple)) and bool(value) and all(map(_is_tensor, value)))


def _is_networks(value: Any) -> bool:
    from torch import nn

    if isinstance(value, Mapping):
        return all(isinstance(net, nn.Module) for net in value.values())
    return isinstance(value, nn.Module)


_RESULTS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "ganzoo_build_generator": (_is_networks, "an nn.Module or a mapping of names to nn.Modules"),
    "ganzoo_build_discriminator": (_is_networks, "an nn.Module or a mapping of names to nn.Modules"),
    "ganzoo_configure_optimizers": (_is_mapping, "a mapping of network names to optimizers"),
    "ganzoo_train_step": (_is_mapping, "a mapping of metric names to numbers (e.g. {'loss_g': ..., 'loss_d': ...})"),
    "ganzoo_sample": (_is_tensor, "a tensor of images (N, C, H, W) in [-1, 1]"),
    "ganzoo_preview": (_is_tensor_or_columns, "a tensor of images, or a list of image tensors (grid columns)"),
    "ganzoo_latents": (_is_mapping, "a mapping of latent names to ganzoo.latents priors"),
    "ganzoo_extra_state": (_is_mapping, "a mapping of names to tensors or plain values (or None)"),
    "ganzoo_extra_loss": (_is_mapping, "a mapping of term names to loss tensors"),
}
"""What each model hook must return (checked when a plugin implements it), and the words for it."""


def check_hook_result(spec: ModelSpec, hook_name: str, result: Any) -> Any:
    """``result`` of ``hook_name`` for ``spec`` if it is what the hook promises, else :class:`PluginContractError`
    naming the plugin, the hook and what was expected (callers check where a wrong value would fail obscurely)."""
    check = _RESULTS.get(hook_name)
    if check is not None and not check[0](result):
        raise PluginContractError(
            f"{hook_name} of plugin {_plugin_name(spec)} (model {spec.name!r}) returned {type(result).__name__}; "
            f"expected {check[1]}"
        )
    return result
