"""The ``ganzoo`` command line.

Each command group lives in its own module exposing ``register(subparsers)``; the modules only touch
argparse at import time (handlers import torch and plugins when they run), so ``ganzoo --help`` stays fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from contextlib import contextmanager
from typing import Iterator, Sequence

from ganzoo._version import __version__

COMMAND_MODULES = (
    "ganzoo.cli.plugin_commands",  # list, info, registry, install, new-plugin, doctor
    "ganzoo.cli.train_commands",  # train, sample
    "ganzoo.cli.bench_commands",  # bench, leaderboard
    "ganzoo.cli.translate_commands",  # translate
)


class CommandError(Exception):
    """An error to show the user as one clear line (exit status 2), without a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ganzoo", description="A plugin-based GAN model zoo for PyTorch.")
    parser.add_argument("--version", action="version", version=f"ganzoo {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a command group that is not built yet
        module.register(subparsers)
    _add_plugin_commands(subparsers)
    return parser


def _add_plugin_commands(subparsers: argparse._SubParsersAction) -> None:
    """Subcommands registered through ``ganzoo_register_commands`` (plugins load without torch)."""
    from ganzoo.plugins import PluginError, get_host

    try:
        commands = get_host().extensions("command")
    except PluginError:  # strict mode and a broken plugin: the command that loads plugins reports it (exit 2)
        return
    for name, command in commands.items():
        if name in subparsers.choices:
            print(f"ganzoo: plugin {command.plugin}'s command {name!r} clashes with a built-in command; skipped",
                  file=sys.stderr)
            continue
        parser = subparsers.add_parser(name, help=f"{command.help} [{command.plugin}]")
        try:
            command.add_arguments(parser)
        except Exception as exc:  # one plugin's bad parser must not take the whole CLI down
            print(f"ganzoo: plugin {command.plugin}'s command {name!r} is broken ({type(exc).__name__}: {exc}); skipped",
                  file=sys.stderr)
            subparsers.choices.pop(name, None)
            continue
        parser.set_defaults(handler=command.run)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail on the closed pipe again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (captured, replaced)
        pass


@contextmanager
def _allowing_other_plugin(allow: bool) -> Iterator[None]:
    """``--allow-other-plugin``: checkpoints load under another distribution for this command only."""
    if not allow:
        yield
        return
    from ganzoo.checkpoint import ALLOW_OTHER_PLUGIN_ENV

    previous = os.environ.get(ALLOW_OTHER_PLUGIN_ENV)
    os.environ[ALLOW_OTHER_PLUGIN_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ALLOW_OTHER_PLUGIN_ENV, None)
        else:
            os.environ[ALLOW_OTHER_PLUGIN_ENV] = previous


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ganzoo`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        with _allowing_other_plugin(getattr(args, "allow_other_plugin", False)):
            return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`ganzoo list --json | head`): stop quietly, like Unix tools
        _silence_stdout()
        return 141
    except Exception as exc:  # user-facing errors become one line; GANZOO_DEBUG=1 shows the traceback
        from ganzoo.config import ConfigError
        from ganzoo.plugins import PluginError, UnknownNameError

        if os.environ.get("GANZOO_DEBUG") or not isinstance(
            exc, (CommandError, ConfigError, PluginError, UnknownNameError, OSError, ValueError)
        ):
            raise
        print(f"ganzoo {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2


# Importing torch, torchvision and sympy creates ~330,000 long-lived objects.  At CPython's default
# thresholds (700, 10, 10) the collector runs six full passes over them while they are created (~0.5 s of
# a 5 s `ganzoo bench`), and the interpreter's shutdown runs one more (0.6-1 s).  Like mypy's command line,
# ours collects less often.  Training loops are not affected: the collector counts allocations minus
# deallocations, and a step frees what it allocates (a DCGAN run triggers 2 collections in 10 steps and
# in 40 at the default thresholds).
COMMAND_LINE_GC_THRESHOLDS = (100_000, 20, 20)


def console_main() -> int:
    """Entry point of the ``ganzoo`` console script and ``python -m ganzoo``: :func:`main`, collected rarely.

    The garbage collector runs at :data:`COMMAND_LINE_GC_THRESHOLDS` during the command and is frozen
    after it, so shutting down skips a full pass over objects that die with the process anyway;
    ``atexit`` handlers and the final flush of stdout and stderr still run, and every command has closed
    its files by then.  :func:`main` called in-process leaves the collector as it was.
    """
    previous = gc.get_threshold()
    gc.set_threshold(*COMMAND_LINE_GC_THRESHOLDS)
    try:
        return main()
    finally:
        gc.set_threshold(*previous)
        gc.freeze()


def _one_line(exc: BaseException) -> str:
    """The message of a user-facing error; a file-system error says which file and what the system said."""
    if isinstance(exc, OSError) and exc.strerror and exc.filename is not None:
        names = " -> ".join(str(name) for name in (exc.filename, exc.filename2) if name is not None)
        return f"{names}: {exc.strerror}"
    return str(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console_main())
