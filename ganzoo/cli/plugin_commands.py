"""Plugin commands: ``list``, ``info``, ``registry``, ``install``, ``new-plugin`` and ``doctor``.

``list`` and ``--help`` never import torch (plugins register models without building networks);
``doctor`` imports it to report devices.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from ganzoo.cli import CommandError

LIST_KINDS = ("model", "loss", "dataset", "protocol", "augmentation", "command")
VERSION_REPORTED = ("torch", "torchvision", "ganzoo", "pluggy", "torch-fidelity", "timm")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the plugin commands to the ``ganzoo`` parser."""
    parser = subparsers.add_parser(
        "list", help="list installed models, plugin losses, datasets, protocols, augmentations and commands "
        "(and broken or disabled plugins)")
    parser.add_argument("pattern", nargs="?", default="*", help="shell-style wildcard, e.g. '*gan*'")
    parser.add_argument("--task", help="only models of this task kind")
    parser.add_argument("--kind", choices=LIST_KINDS, help="only this kind of contribution (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=list_command)

    parser = subparsers.add_parser(
        "info", help="a model's metadata, default config and config schema (or what a loss, dataset, protocol, "
        "augmentation or command is and which plugin provides it)")
    parser.add_argument("model", nargs="?", help="model name (or loss, dataset, protocol, augmentation, command)")
    parser.add_argument("--losses", action="store_true", help="list the adversarial losses instead")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=info_command)

    parser = subparsers.add_parser("registry", help="the catalogue of known plugins, marking installed ones")
    parser.add_argument("--registry", help="catalogue file (default: $GANZOO_REGISTRY or the one shipped)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=registry_command)

    parser = subparsers.add_parser(
        "install",
        help="install a plugin named in the catalogue (model or distribution name) with pip",
        description="Resolve NAME through registry.toml and pip-install it: from the local source directory in a "
        "checkout, else from PyPI. ganzoo's options come before NAME; everything after NAME goes to pip "
        "(e.g. `ganzoo install --dry-run dcgan --no-deps`).",
    )
    parser.add_argument("name", help="model name (dcgan) or distribution (ganzoo-plugin-dcgan)")
    parser.add_argument("pip_args", nargs=argparse.REMAINDER, help="extra pip arguments")
    parser.add_argument("--registry", help="catalogue file (default: $GANZOO_REGISTRY or the one shipped)")
    parser.add_argument("-e", "--editable", action="store_true", help="editable install of a local source")
    parser.add_argument("--dry-run", action="store_true", help="print the pip command without running it")
    parser.set_defaults(handler=install_command)

    parser = subparsers.add_parser("new-plugin", help="write a complete, tested plugin package to start from")
    parser.add_argument("name", help="model (or loss) name, e.g. my-gan (lower-case letters, digits, '-')")
    parser.add_argument("--kind", choices=("model", "loss"), default="model",
                        help="a model plugin (default) or a loss-only plugin")
    parser.add_argument("--dir", help="output directory (default: ./ganzoo-plugin-NAME)")
    parser.add_argument("--distribution", help="distribution name (default: ganzoo-plugin-NAME)")
    parser.add_argument("--force", action="store_true", help="write into a non-empty directory")
    parser.set_defaults(handler=new_plugin_command)

    parser = subparsers.add_parser("doctor", help="versions, devices, plugins and optional files")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=doctor_command)


# -- helpers ------------------------------------------------------------------------------------------
def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=False, default=str))


def _table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# -- list ---------------------------------------------------------------------------------------------
def model_rows(pattern: str = "*", task: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """``ganzoo list`` rows: one per matching model or plugin contribution (``kind``: model, loss, dataset, ...),
    plus one per broken or disabled plugin.  ``task`` keeps only models of that task kind."""
    import fnmatch

    from ganzoo.plugins import get_host

    kind = "model" if task is not None else kind
    rows = []
    for row in get_host().model_records():
        if row["name"] is not None:  # a model (ok, or in conflict with another plugin's model of that name)
            if (fnmatch.fnmatchcase(row["name"], pattern) and (task is None or row["task"] == task)
                    and (kind is None or row["kind"] == kind)):
                rows.append(row)
        elif pattern == "*" or any(fnmatch.fnmatchcase(row[k], pattern) for k in ("entry_point", "plugin")):
            rows.append(row)
    return rows


def list_command(args: argparse.Namespace) -> int:
    """Print installed models; broken plugins are rows with their error (exit status stays 0)."""
    rows = model_rows(args.pattern, args.task, args.kind)
    if args.json:
        _print_json(rows)
        return 0
    if not rows:
        print(f"nothing installed matches {args.pattern!r}; see `ganzoo registry` for installable plugins")
        return 0
    table = [
        (r["name"] or f"({r['entry_point']})", r["task"] or (f"({r['kind']})" if r.get("kind") else "-"),
         r["plugin"], r["version"], r["status"],
         _first_line(r["error"]) if r["status"] != "ok" else r.get("description", ""))
        for r in rows
    ]
    print(_table(table, ("NAME", "TASK / KIND", "PLUGIN", "VERSION", "STATUS", "DESCRIPTION / ERROR")))
    broken = [r for r in rows if r["status"] == "broken"]
    if broken:
        print(f"\n{len(broken)} plugin(s) failed to load and were skipped; GANZOO_DEBUG=1 shows tracebacks, "
              "GANZOO_DISABLE_PLUGINS=NAME hides them", file=sys.stderr)
    conflicts = sorted({r["name"] for r in rows if r["status"] == "conflict"})
    if conflicts:
        print(f"\nmodel name(s) registered by more than one plugin: {', '.join(conflicts)}; disable one plugin "
              "(GANZOO_DISABLE_PLUGINS=DISTRIBUTION) or choose with GANZOO_PREFER=MODEL=DISTRIBUTION", file=sys.stderr)
    return 0


# -- info ---------------------------------------------------------------------------------------------
def model_info(name: str) -> dict[str, Any]:
    """Metadata, resolved defaults, overridden hooks and config schema of an installed model."""
    from ganzoo import hookspecs
    from ganzoo.config import resolve_config, schema
    from ganzoo.plugins import get_host

    host = get_host()
    spec = host.get_model(name)
    defaults = resolve_config(spec)
    from ganzoo.latents import describe

    return {
        **spec.metadata(),
        "latents": describe(host.call("ganzoo_latents", spec, config=defaults.model)),
        "networks": network_roles(spec, defaults),
        "train_settings": honoured_train_settings(spec),
        "entry_point": spec.plugin,
        "hooks": [hook for hook in hookspecs.HOOK_NAMES if not hook.startswith("ganzoo_register") and host.implements(spec, hook)],
        "tiny_config": dict(spec.tiny_config),
        "defaults": defaults.model_dump(mode="json", exclude={"model_name"}),
        "defaults_toml": defaults.to_toml(),
        "schema": schema(spec),
    }


def network_roles(spec: Any, config: Any) -> dict[str, str]:
    """Network name -> role for the default config, built on torch's ``meta`` device (no memory, no weights)."""
    from ganzoo.plugins import get_host

    import torch

    host = get_host()
    roles: dict[str, str] = {}
    with torch.device("meta"):
        for hook, role, single in (("ganzoo_build_generator", "generator", "generator"),
                                   ("ganzoo_build_discriminator", "discriminator", "discriminator")):
            built = host.call(hook, spec, config=config.model)
            names = [single] if isinstance(built, torch.nn.Module) and not isinstance(built, torch.nn.ModuleDict) else list(built)
            roles.update({name: spec.roles.get(name, role) for name in names})
    return roles


def honoured_train_settings(spec: Any) -> dict[str, Any]:
    """Which train settings the model honours: the trainer applies all but the step-only ones, which depend on
    the model's train step."""
    from ganzoo.config import TrainConfig
    from ganzoo.specs import STEP_SETTINGS

    honoured = spec.honoured_step_settings
    step = list(STEP_SETTINGS) if honoured is None else list(honoured)
    return {
        "trainer": [name for name in TrainConfig.model_fields if name not in STEP_SETTINGS],
        "step": step,
        "ignored": [] if honoured is None else [name for name in STEP_SETTINGS if name not in honoured],
        "checked": honoured is not None,
    }


def loss_info() -> list[dict[str, Any]]:
    """Every registered loss with its description, plugin and default gradient-penalty weight."""
    from ganzoo.plugins import get_host

    host = get_host()
    return [
        {"name": name, "description": loss.description, "plugin": loss.plugin, "gradient_penalty": loss.gradient_penalty}
        for name, loss in ((n, host.get_loss(n)) for n in host.list_losses())
    ]


def contribution_info(name: str) -> dict[str, Any] | None:
    """What a non-model name is (a loss, dataset, protocol, augmentation or command) and who provides it;
    ``None`` when no plugin registered ``name`` as any of those."""
    from ganzoo.plugins import get_host

    host = get_host()
    if name in host.list_losses():
        loss = host.get_loss(name)
        try:
            built = loss.build()  # a factory that reads the run's settings may fail without a config
        except Exception:
            built = None
        return {"name": name, "kind": "loss", "plugin": loss.plugin, "description": loss.description,
                "gradient_penalty": loss.gradient_penalty,
                "class": f"{type(built).__module__}.{type(built).__qualname__}" if built is not None else None,
                "generator_needs_real_scores": bool(getattr(built, "generator_needs_real_scores", False)),
                "usage": f"ganzoo train MODEL --loss {name}"}
    for kind in ("dataset", "protocol", "augmentation", "command"):
        item = host.extensions(kind).get(name)
        if item is None:
            continue
        info: dict[str, Any] = {"name": name, "kind": kind, "plugin": host.extension_plugin(kind, name)}
        if kind == "protocol":
            info.update(protocol=item.model_dump(mode="json"), hash=item.digest())
        else:
            info["description"] = item.help if kind == "command" else item.description
            info.update(tasks=list(item.tasks)) if kind == "dataset" else None
            info.update(stage=item.stage) if kind == "augmentation" else None
        return info
    return None


def info_command(args: argparse.Namespace) -> int:
    """Print a model's description (or a loss's, dataset's, ... or the list of losses)."""
    if args.losses:
        losses = loss_info()
        if args.json:
            _print_json(losses)
        else:
            print(_table([(l["name"], l["plugin"], l["gradient_penalty"] or "", l["description"]) for l in losses],
                         ("LOSS", "PLUGIN", "GP", "DESCRIPTION")))
        return 0
    if not args.model:
        raise CommandError("name a model (see `ganzoo list`) or pass --losses")
    from ganzoo.plugins import UnknownNameError, get_host

    if args.model not in get_host().list_models():
        other = contribution_info(args.model)
        if other is None:
            try:
                get_host().get_model(args.model)
            except UnknownNameError as exc:
                raise UnknownNameError(f"{exc} (nor a loss, dataset, protocol, augmentation or command)") from None
        if args.json:
            _print_json(other)
            return 0
        print(f"{other['name']}  ({other['kind']})  from {other['plugin'] or 'ganzoo'}")
        for key, value in other.items():
            if key not in ("name", "kind", "plugin"):
                print(f"  {key}: {json.dumps(value) if isinstance(value, (dict, list)) else value}")
        return 0
    info = model_info(args.model)
    if args.json:
        _print_json({k: v for k, v in info.items() if k != "defaults_toml"})
        return 0
    print(f"{info['name']}  ({info['task']})  from {info['plugin']} {info['version']}")
    print(f"  {info['description']}\n  paper:   {info['paper']}\n  license: {info['license']}")
    print(f"  hooks:   {', '.join(info['hooks']) or '(core defaults only)'}")
    print(f"  plugin API: {info['api']}")
    print(f"  latents: {', '.join(f'{k} ~ {v}' for k, v in info['latents'].items()) or '(none: translates images)'}")
    print(f"  networks: {', '.join(f'{k} ({v})' for k, v in info['networks'].items())}")
    settings = info["train_settings"]
    ignored = f"; ignored by its step (setting them is an error): {', '.join(settings['ignored'])}" if settings["ignored"] else ""
    print(f"  train step honours: {', '.join(settings['step']) or '(no step-only settings)'}{ignored}; "
          "the trainer applies every other train setting")
    loss_names = [loss["name"] for loss in loss_info()]
    print("\nsettings (change with --set section.key=value or a TOML file with these sections; "
          "--json gives the JSON schema):")
    for section, section_schema in info["schema"].items():
        defaults = info["defaults"][section]
        rows = [
            (key, "(unset)" if defaults.get(key) is None else json.dumps(defaults[key]),
             "|".join(loss_names) if (section, key) == ("train", "loss") else allowed_values(prop),
             prop.get("description", ""))
            for key, prop in section_schema.get("properties", {}).items()
        ]
        print(f"\n[{section}]")
        print(_table(rows, ("KEY", "DEFAULT", "ALLOWED", "DESCRIPTION")))
    return 0


_JSON_TYPES = {"integer": "int", "number": "float", "string": "text", "boolean": "true|false", "null": "none"}


def allowed_values(prop: dict[str, Any]) -> str:
    """A short human form of a JSON-schema property's type, choices and range (``int >= 1``, ``0 <= float < 1``, ``"a"|"b"``)."""
    if "anyOf" in prop:
        return " or ".join(allowed_values(option) for option in prop["anyOf"])
    if "enum" in prop:
        return "|".join(json.dumps(choice) for choice in prop["enum"])
    text = _JSON_TYPES.get(prop.get("type", ""), prop.get("type", "any"))
    lower = [(op, prop[key]) for op, key in (("<=", "minimum"), ("<", "exclusiveMinimum")) if key in prop]
    upper = [(op, prop[key]) for op, key in (("<=", "maximum"), ("<", "exclusiveMaximum")) if key in prop]
    if lower and upper:
        return f"{lower[0][1]} {lower[0][0]} {text} {upper[0][0]} {upper[0][1]}"
    if lower:
        return f"{text} {'>=' if lower[0][0] == '<=' else '>'} {lower[0][1]}"
    return " ".join([text, *(f"{op} {bound}" for op, bound in upper)])


# -- registry -----------------------------------------------------------------------------------------
def _installed_version(distribution: str) -> str | None:
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
        installed = _installed_version(entry.distribution)
        rows.append({
            **entry.model_dump(mode="json"),
            "installed": installed,
            "plugin_status": statuses.get(canonical_name(entry.distribution)),
            "compatible": entry.supports(__version__),
            "local_source": str(catalogue.source_path(entry) or "") or None,
        })
    return rows


def registry_command(args: argparse.Namespace) -> int:
    """Print the catalogue."""
    rows = registry_rows(args.registry)
    if args.json:
        _print_json(rows)
        return 0
    table = [
        (", ".join(r["models"]), r["distribution"], r["task"], r["status"],
         r["installed"] or "-", "" if r["compatible"] else "needs ganzoo " + r["core"], r["summary"])
        for r in rows
    ]
    print(_table(table, ("MODELS", "DISTRIBUTION", "TASK", "STATUS", "INSTALLED", "", "SUMMARY")))
    return 0


# -- install ------------------------------------------------------------------------------------------
def install_command_line(name: str, registry: str | None = None, editable: bool = False, pip_args: Iterable[str] = ()) -> list[str]:
    """The pip command that installs the plugin ``name`` resolves to in the catalogue."""
    from ganzoo._version import __version__
    from ganzoo.catalogue import load_catalogue

    catalogue = load_catalogue(registry)
    entry = catalogue.find(name)
    if entry.status == "planned":
        raise CommandError(f"{entry.distribution} ({', '.join(entry.models)}) is planned but not built yet")
    if not entry.supports(__version__):
        raise CommandError(f"{entry.distribution} supports ganzoo {entry.core}, this is ganzoo {__version__}")
    local = catalogue.source_path(entry)
    if local is not None:
        target = str(local)
    elif entry.source.startswith("git+"):
        target = entry.source
    else:
        target = entry.distribution
    if editable and local is None:
        raise CommandError(f"--editable needs a local source; {entry.distribution} comes from {target}")
    extra = [arg for arg in pip_args if arg != "--"]
    return [sys.executable, "-m", "pip", "install", *(["-e"] if editable else []), target, *extra]


def install_command(args: argparse.Namespace) -> int:
    """pip-install a catalogued plugin into this Python environment, then check that it loads."""
    return install_plugin(args.name, args.registry, args.editable, args.pip_args, dry_run=args.dry_run)


def install_plugin(
    name: str, registry: str | None = None, editable: bool = False, pip_args: Iterable[str] = (), dry_run: bool = False
) -> int:
    """Resolve ``name`` through the catalogue, pip-install it (printing the command) and check that it loads.

    Returns 0 when the plugin loads, 1 when it installed but is broken; pip failures raise ``CommandError``.
    """
    command = install_command_line(name, registry, editable, pip_args)
    print("$ " + " ".join(command), flush=True)
    if dry_run:
        return 0
    result = subprocess.run(command)
    if result.returncode:
        raise CommandError(f"pip failed with exit status {result.returncode} (command above)")
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


# -- new-plugin ---------------------------------------------------------------------------------------
def new_plugin_command(args: argparse.Namespace) -> int:
    """Write a plugin package from the template."""
    from ganzoo.templates import render_plugin

    target = Path(args.dir or f"ganzoo-plugin-{args.name}")
    try:
        written = render_plugin(args.name, target, distribution=args.distribution, force=args.force, kind=args.kind)
    except FileExistsError as exc:
        raise CommandError(str(exc)) from None
    print(f"wrote {len(written)} files to {target}/:")
    for path in written:
        print(f"  {path.relative_to(target)}")
    then = f"ganzoo train dcgan --loss {args.name}" if args.kind == "loss" else f"ganzoo train {args.name}"
    print(f"\nnext:\n  pip install -e {target}\n  pytest {target}/tests\n  ganzoo info {args.name}\n  {then}")
    return 0


# -- doctor -------------------------------------------------------------------------------------------
OptionalFileCheck = Callable[[], list[dict[str, Any]]]


def inception_weights_check() -> list[dict[str, Any]]:
    """Where the InceptionV3 weights for FID/IS are looked for, and whether one is present."""
    try:
        from ganzoo.metrics.extractors import inception_search_paths
    except Exception as exc:  # the metrics module is optional for doctor: report instead of failing
        return [{"name": "inception-v3-compat weights", "present": False, "path": None, "note": f"cannot check: {exc}"}]
    paths = inception_search_paths()
    present = [p for p in paths if p.is_file()]
    return [{
        "name": "inception-v3-compat weights (FID, IS)",
        "present": bool(present),
        "path": str(present[0] if present else paths[-1]),
        "note": "" if present else "put weights-inception-2015-12-05-6726825d.pth at this path or set GANZOO_INCEPTION_WEIGHTS",
    }]


OPTIONAL_FILE_CHECKS: list[OptionalFileCheck] = [inception_weights_check]
"""Checks of optional files (metric weights, datasets); append a function returning rows to extend doctor."""


def optional_files() -> list[dict[str, Any]]:
    """Run every optional-file check; a failing check becomes a row with its error."""
    rows = []
    for check in OPTIONAL_FILE_CHECKS:
        try:
            rows.extend(check())
        except Exception as exc:
            rows.append({"name": getattr(check, "__name__", "check"), "present": False, "path": None, "note": f"check failed: {exc}"})
    return rows


def versions() -> dict[str, str | None]:
    """Python and the versions of the packages ganzoo depends on (None: not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    found.update({name: _installed_version(name) for name in VERSION_REPORTED})
    return found


def devices() -> dict[str, Any]:
    """Which accelerators torch can use."""
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return {
        "cpu_threads": torch.get_num_threads(),
        "cuda": cuda,
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "mps": mps,
        "default": "cuda" if cuda else "mps" if mps else "cpu",
    }


def doctor_report() -> dict[str, Any]:
    """Everything ``ganzoo doctor`` prints."""
    from ganzoo.plugins import get_host

    return {
        "versions": versions(),
        "executable": sys.executable,
        "devices": devices(),
        "plugins": [r.as_dict() for r in get_host().records],
        "model_conflicts": {name: [spec.distribution for spec in specs] for name, specs in get_host().conflicts.items()},
        "optional_files": optional_files(),
        "environment": {k: os.environ[k] for k in ("GANZOO_STRICT_PLUGINS", "GANZOO_DISABLE_PLUGINS", "GANZOO_PREFER", "GANZOO_REGISTRY", "TORCH_HOME") if k in os.environ},
    }


def doctor_command(args: argparse.Namespace) -> int:
    """Print the environment report; exit status 1 when a plugin is broken or two claim one model name."""
    report = doctor_report()
    broken = [p for p in report["plugins"] if p["status"] == "broken"] + list(report["model_conflicts"])
    if args.json:
        _print_json(report)
        return 1 if broken else 0
    print("versions:")
    print(_table([(f"  {k}", v or "not installed") for k, v in report["versions"].items()], ("  PACKAGE", "VERSION")))
    print(f"  python executable: {report['executable']}")
    dev = report["devices"]
    print(f"\ndevices: default {dev['default']}; CUDA {'yes: ' + ', '.join(dev['cuda_devices']) if dev['cuda'] else 'no'}; "
          f"MPS {'yes' if dev['mps'] else 'no'}; {dev['cpu_threads']} CPU threads")
    print("\nplugins:")
    rows = [(f"  {p['name']}", p["distribution"], p["version"], p["status"], ", ".join(p["models"]) or _first_line(p["error"]))
            for p in report["plugins"]]
    print(_table(rows, ("  ENTRY POINT", "DISTRIBUTION", "VERSION", "STATUS", "MODELS / ERROR")))
    for name, distributions in report["model_conflicts"].items():
        print(f"  CONFLICT: model {name!r} is registered by {' and '.join(distributions)}; disable one or set "
              f"GANZOO_PREFER={name}=DISTRIBUTION")
    print("\noptional files:")
    for row in report["optional_files"]:
        mark = "present" if row["present"] else "missing"
        print(f"  {row['name']}: {mark} ({row['path']}){'; ' + row['note'] if row.get('note') else ''}")
    for key, value in report["environment"].items():
        print(f"\n{key}={value}")
    return 1 if broken else 0
