"""Plugin commands: ``list``, ``info``, ``registry``, ``install``, ``new-plugin`` and ``doctor``.

``list`` and ``--help`` never import torch (plugins register models without building networks);
``doctor`` imports it to report devices.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

from ganzoo.cli import CommandError
from ganzoo.diagnostics import doctor_report
from ganzoo.install import install_plugin, registry_rows
from ganzoo.inventory import contribution_info, loss_info, model_info, model_rows

LIST_KINDS = ("model", "loss", "dataset", "protocol", "augmentation", "command")


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
def install_command(args: argparse.Namespace) -> int:
    """pip-install a catalogued plugin into this Python environment, then check that it loads."""
    return install_plugin(args.name, args.registry, args.editable, args.pip_args, dry_run=args.dry_run)


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
