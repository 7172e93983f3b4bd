"""Write ``docs/api.md``, the API reference for plugin code, from the docstrings: ``python -m ganzoo.apidoc``.

It covers what a plugin's hooks and train steps use: the state (:class:`ganzoo.state.GANState`), the step pieces,
latents, sampling helpers, losses, optimizer settings and the ``ganzoo.nn`` building blocks.  Public classes
and functions are listed in source order with their signatures; a class's public methods and properties follow
it.  ``python -m ganzoo.apidoc --check`` exits 1 when the committed file is out of date (a test runs it).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path
from typing import Any, Iterator

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "docs" / "api.md"
CORE_MODULES = ("ganzoo.state", "ganzoo.steps", "ganzoo.latents", "ganzoo.sampling", "ganzoo.losses", "ganzoo.optim")

PREAMBLE = """# API reference for plugin code

Generated from the docstrings by `python -m ganzoo.apidoc` (do not edit by hand; a test checks that this file is
up to date). The hooks themselves are described in [plugins.md](plugins.md); this page lists what their code
may call: the state passed to `ganzoo_train_step`, `ganzoo_sample` and `ganzoo_preview`, the reusable step
pieces, latents, losses, optimizer settings and the `ganzoo.nn` building blocks.

## Train steps in brief

* **Networks**: call `state.networks[name]` in training forward passes (under DDP these are
  `DistributedDataParallel` wrappers, which synchronise gradients; an auxiliary head that shares D's trunk, such
  as AC-GAN's classifier or InfoGAN's Q, is part of D's module and called through D's wrapper). Use
  `state.unwrapped(name)` for attributes and sub-modules, `state.sampling_network(name)` (EMA weights when kept)
  for sampling. `state.generate(...)` / `state.discriminate(...)` call the wrappers.
* **Losses and settings**: `state.loss` (a `GANLoss`: `discriminator_loss(real, fake)`,
  `generator_loss(fake_scores)`), `state.gp_weight` (0 for none), `state.model_config` (the `[model]` section),
  `state.config.train` / `state.config.sample`, `state.random_labels(n)` (class labels or `None`),
  `state.draw_latents(n)` (the declared latents).
* **Updates**: `state.optimize(names, loss)` clears the gradients of those optimizers (`set_to_none`), runs one
  backward pass (scaled by the fp16 gradient scaler when `train.precision = "fp16"` on CUDA), optionally clips
  and calls `before_step`, steps them and updates the scaler. Gradients the loss leaves in other networks are
  not cleared there; they are cleared when those networks' optimizers are next used. Run forward passes under
  `with state.autocast():` so `train.precision` (bf16/fp16) applies, and compute losses in float32
  (`scores.float()`).
* **Learning rates** follow `train.lr_schedule` per optimizer (the trainer sets them before every step); steps
  never set learning rates themselves.
* **Building blocks** (`ganzoo.nn`): constructor arguments are in the signatures below; each block's docstring
  says how it is initialised (torch's defaults where it says nothing else); `ganzoo.nn.init` holds the
  reference schemes (`normal_init_`, `gan_init_`) to re-initialise a whole network.
"""


def public_members(module: Any) -> Iterator[tuple[str, Any]]:
    """Public classes and functions defined in ``module`` (``__all__`` when it has one), in source order."""
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    members = [(name, getattr(module, name)) for name in names]
    members = [(name, obj) for name, obj in members if (inspect.isclass(obj) or inspect.isfunction(obj))
               and getattr(obj, "__module__", None) == module.__name__]
    yield from sorted(members, key=lambda item: _line(item[1]))


def _line(obj: Any) -> int:
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return 0


class _Written:
    """An annotation shown as written (postponed annotations are strings, which ``inspect`` would quote)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _signature(obj: Any) -> str:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"

    def written(annotation: Any) -> Any:
        return _Written(annotation) if isinstance(annotation, str) else annotation

    parameters = [p.replace(annotation=written(p.annotation)) for p in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=written(signature.return_annotation)))


def _doc(obj: Any) -> str:
    return inspect.getdoc(obj) or "(undocumented)"


def _class_members(cls: type) -> Iterator[tuple[str, Any]]:
    members = [(name, value) for name, value in vars(cls).items()
               if not name.startswith("_") and (inspect.isfunction(value) or isinstance(value, (property, classmethod, staticmethod)))]
    yield from sorted(members, key=lambda item: _line(item[1].fget if isinstance(item[1], property)
                                                        else getattr(item[1], "__func__", item[1])))


def render_class(cls: type, module: str) -> list[str]:
    bases = [b.__qualname__ for b in cls.__bases__ if b is not object]
    lines = [f"### class `{cls.__name__}`" + (f" ({', '.join(bases)})" if bases else ""), "",
             f"```python\n{module}.{cls.__name__}{_signature(cls)}\n```", "", _doc(cls), ""]
    for name, value in _class_members(cls):
        if isinstance(value, property):
            lines += [f"#### `{cls.__name__}.{name}` (property)", "", _doc(value.fget), ""]
            continue
        function = getattr(value, "__func__", value)
        lines += [f"#### `{cls.__name__}.{name}`", "", f"```python\n{name}{_signature(function)}\n```", "",
                  _doc(function), ""]
    return lines


def render_function(function: Any, module: str) -> list[str]:
    return [f"### `{function.__name__}`", "", f"```python\n{module}.{function.__name__}{_signature(function)}\n```", "",
            _doc(function), ""]


def render_module(name: str) -> list[str]:
    module = importlib.import_module(name)
    lines = [f"## `{name}`", "", _doc(module), ""]
    for _, member in public_members(module):
        lines += render_class(member, name) if inspect.isclass(member) else render_function(member, name)
    return lines


def documented_modules() -> list[str]:
    """The core modules plugin code uses, then every ``ganzoo.nn`` module."""
    import ganzoo.nn

    blocks = sorted(f"ganzoo.nn.{info.name}" for info in pkgutil.iter_modules(ganzoo.nn.__path__))
    return [*CORE_MODULES, *blocks]


def render() -> str:
    """The whole reference as Markdown."""
    modules = documented_modules()
    lines = [PREAMBLE, "## Modules", "", *(f"- [`{m}`](#{m.replace('.', '')})" for m in modules), ""]
    for name in modules:
        lines += render_module(name)
    return "\n".join(line.rstrip() for line in "\n".join(lines).splitlines()).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ganzoo.apidoc", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT, help=f"where to write (default {DEFAULT_OUTPUT})")
    parser.add_argument("--check", action="store_true", help="exit 1 when the file differs from the docstrings")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is out of date: run `python -m ganzoo.apidoc`", file=sys.stderr)
            return 1
        return 0
    from ganzoo.fileio import atomic_write_text

    atomic_write_text(args.out, text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
