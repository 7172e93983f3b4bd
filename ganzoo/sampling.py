"""Sampling a model through its ``ganzoo_sample`` hook: plain samples, latent traversals and interpolations.

:func:`sample_images` passes a sampler only the arguments its task uses (labels for class-conditional models,
inputs for image-to-image ones, a direction for unpaired ones), so an API-2 sampler is never handed a value
it has no parameter for.  Callers never wrap sampling in ``no_grad``: samplers decide their grad mode.

:func:`traversal_latents` and :func:`interpolation_latents` build the latent values behind the grids of
``ganzoo sample --traverse`` and ``--interpolate``; seeded draws are made on the CPU (same on every device).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Mapping

import torch

from ganzoo.latents import Categorical, Latent, LatentError, Normal, slerp
from ganzoo.plugins import PluginHost, check_hook_result
from ganzoo.state import GANState


SAMPLE_CHUNK = 512
"""Images generated per ``ganzoo_sample`` call: larger requests are drawn in chunks (bounded activations)."""
IMAGE_COPIES = 3
"""Float images held at once while sampling and saving: the samples, the grid and its uint8 copy."""


class SampleMemoryError(ValueError):
    """A sampling request whose images cannot fit in this machine's memory; the message says how much fits."""


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (``MemAvailable``), or None where it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_sample_memory(state: GANState, num: int, what: str = "--num") -> None:
    """Refuse ``num`` images that would not fit in memory (estimated from the model's image size and channels)."""
    config = state.model_config
    per_image = int(getattr(config, "channels", 3)) * int(getattr(config, "image_size", 64)) ** 2 * 4 * IMAGE_COPIES
    available = available_memory()
    if available is None or num * per_image <= available * 0.8:
        return
    fits = max(1, int(available * 0.8) // per_image)
    raise SampleMemoryError(
        f"{what} {num}: {num} images of {config.image_size}x{config.image_size}x{config.channels} need about "
        f"{num * per_image / 2**30:.1f} GiB, more than the {available / 2**30:.1f} GiB of memory available; "
        f"ask for at most {fits} (or several runs with different --seed)"
    )


def sample_images(
    state: GANState,
    num: int,
    *,
    labels: torch.Tensor | None = None,
    inputs: torch.Tensor | None = None,
    truncation: float | None = None,
    generator: torch.Generator | None = None,
    direction: str | None = None,
    latents: Mapping[str, torch.Tensor] | None = None,
    host: PluginHost | None = None,
) -> torch.Tensor:
    """``num`` images from ``state``'s model via its ``ganzoo_sample`` (detached, float32, in [-1, 1]).

    More than :data:`SAMPLE_CHUNK` images are drawn in chunks and gathered on the CPU; a request that cannot fit
    in memory raises :class:`SampleMemoryError` before anything is generated."""
    check_sample_memory(state, num)
    if num <= SAMPLE_CHUNK:
        return _sample_once(state, num, labels, inputs, truncation, generator, direction, latents, host)
    chunks = []
    for start in range(0, num, SAMPLE_CHUNK):
        part = slice(start, min(num, start + SAMPLE_CHUNK))
        chunk_latents = {name: value[part] for name, value in latents.items()} if latents else None
        chunks.append(_sample_once(
            state, part.stop - part.start, labels[part] if labels is not None else None,
            inputs[part] if inputs is not None else None, truncation, generator, direction, chunk_latents, host,
        ).cpu())
    return torch.cat(chunks)


def _sample_once(state: GANState, num: int, labels: torch.Tensor | None, inputs: torch.Tensor | None,
                 truncation: float | None, generator: torch.Generator | None, direction: str | None,
                 latents: Mapping[str, torch.Tensor] | None, host: PluginHost | None) -> torch.Tensor:
    spec = state.spec
    arguments: dict[str, Any] = {"truncation": truncation, "generator": generator, "latents": latents or None}
    if spec.conditional:
        arguments["labels"] = labels
    if spec.image_to_image:
        arguments["inputs"] = inputs
    if spec.task == "unpaired-image-to-image":
        arguments["direction"] = direction
    images = (host or state.host).call("ganzoo_sample", spec, state=state, num=num, **arguments)
    return check_hook_result(spec, "ganzoo_sample", images).detach().float()


def class_grid_labels(num_classes: int, num: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, int]:
    """Labels for a class grid: one row per class, ``max(1, num // num_classes)`` samples each (row ``k`` is
    class ``k``).  Returns ``(labels, samples per row)``; there are ``num_classes * per_row`` labels."""
    if num_classes < 1:
        raise ValueError(f"a class grid needs at least one class, got num_classes={num_classes}")
    per_row = max(1, num // num_classes)
    return torch.arange(num_classes, device=device).repeat_interleave(per_row), per_row


def _one_value(prior: Latent, text: str, name: str) -> torch.Tensor:
    """A latent value from text: an index for categorical latents, one number (all dims) or ``dim`` numbers."""
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        numbers = []
    if not numbers or not all(math.isfinite(number) for number in numbers):
        raise LatentError(f"latent {name}={text!r}: expected a finite number or comma-separated finite numbers")
    if isinstance(prior, Categorical):
        if len(numbers) != 1 or not numbers[0].is_integer() or not 0 <= numbers[0] < prior.k:
            raise LatentError(f"latent {name}={text!r}: {name} is categorical({prior.k}); give a class index 0..{prior.k - 1}")
        return torch.tensor(int(numbers[0]))
    if len(numbers) not in (1, prior.dim):
        raise LatentError(f"latent {name}={text!r}: {name} is {prior.describe()}; give 1 or {prior.dim} numbers")
    return torch.tensor(numbers * prior.dim if len(numbers) == 1 else numbers, dtype=torch.float32)


def parse_latent_values(texts: list[str], latents: Mapping[str, Latent], num: int) -> dict[str, torch.Tensor]:
    """``["code=3", "c1=0.5"]`` -> latent values repeated for ``num`` samples; unknown names are errors."""
    values: dict[str, torch.Tensor] = {}
    for text in texts:
        name, value = _split(text, "--latent", "NAME=VALUE")
        value_tensor = _one_value(_prior(latents, name), value, name)
        values[name] = value_tensor.expand(num, *value_tensor.shape).clone()
    return values


@dataclass
class Traversal:
    """A ``--traverse NAME[.DIM]=LOW:HIGH:STEPS`` request."""

    name: str
    dim: int | None
    low: float
    high: float
    steps: int

    @classmethod
    def parse(cls, text: str) -> Traversal:
        target, spec = _split(text, "--traverse", "NAME=LOW:HIGH:STEPS")
        name, _, dim = target.partition(".")
        parts = spec.split(":")
        try:
            low, high, steps = float(parts[0]), float(parts[1]), int(parts[2])
        except (ValueError, IndexError):
            raise LatentError(f"--traverse {text!r}: expected NAME=LOW:HIGH:STEPS, e.g. c1=-2:2:8") from None
        if len(parts) != 3 or steps < 2 or not (math.isfinite(low) and math.isfinite(high)):
            raise LatentError(f"--traverse {text!r}: expected NAME=LOW:HIGH:STEPS with finite bounds and at least 2 steps")
        if dim and not dim.isdigit():
            raise LatentError(f"--traverse {text!r}: NAME.DIM needs a dimension index, e.g. z.3")
        return cls(name, int(dim) if dim else None, low, high, steps)


def traversal_latents(state: GANState, traversal: Traversal, rows: int, generator: torch.Generator,
                      given: Mapping[str, torch.Tensor] | None = None,
                      truncation: float | None = None) -> dict[str, torch.Tensor]:
    """Latents for a ``rows x steps`` grid: each row keeps its own draw of the other latents, each column sets the
    traversed latent (or one of its dimensions) to the next of ``steps`` evenly spaced values.

    ``given`` values with one row apply to every row, values with ``rows`` rows to their own row."""
    prior = _prior(state.latents, traversal.name)
    base = state.draw_latents(rows, generator, given=_rows(given, rows), truncation=truncation)
    values = torch.linspace(traversal.low, traversal.high, traversal.steps)
    grid = {name: value.repeat_interleave(traversal.steps, dim=0) for name, value in base.items()}
    column = values.repeat(rows).to(state.device)
    if isinstance(prior, Categorical):
        if not all(v.is_integer() and 0 <= v < prior.k for v in values.tolist()):
            raise LatentError(f"--traverse {traversal.name}: categorical({prior.k}) values must be class indices "
                              f"0..{prior.k - 1} (e.g. {traversal.name}=0:{prior.k - 1}:{prior.k})")
        grid[traversal.name] = column.long()
    elif traversal.dim is None:
        grid[traversal.name] = column[:, None].expand(-1, prior.dim).clone()
    else:
        if traversal.dim >= prior.dim:
            raise LatentError(f"--traverse {traversal.name}.{traversal.dim}: {traversal.name} has {prior.dim} dimensions")
        grid[traversal.name][:, traversal.dim] = column
    return grid


def interpolation_latents(state: GANState, seeds: tuple[int, int], steps: int, rows: int = 1,
                          given: Mapping[str, torch.Tensor] | None = None,
                          truncation: float | None = None) -> dict[str, torch.Tensor]:
    """Latents for ``rows`` paths of ``steps`` images from seed ``a``'s draws to seed ``b``'s: spherical
    interpolation (slerp) for normal latents, linear for uniform ones; categorical values switch half-way."""
    start, end = (state.draw_latents(rows, torch.Generator().manual_seed(seed), given=_rows(given, rows),
                                     truncation=truncation) for seed in seeds)
    weights = torch.linspace(0, 1, steps)
    grid: dict[str, torch.Tensor] = {}
    for name, prior in state.latents.items():
        a, b = start[name].cpu(), end[name].cpu()
        if isinstance(prior, Categorical):
            path = torch.stack([torch.where(weights < 0.5, a[r], b[r]) for r in range(rows)])
        elif isinstance(prior, Normal):
            path = torch.stack([slerp(a[r], b[r], weights) for r in range(rows)])
        else:
            path = torch.stack([a[r] + weights[:, None] * (b[r] - a[r]) for r in range(rows)])
        grid[name] = path.flatten(0, 1).to(state.device)
    return grid


@dataclass
class Interpolation:
    """An ``--interpolate SEED_A:SEED_B[:STEPS]`` request (8 steps unless given)."""

    seeds: tuple[int, int]
    steps: int = 8

    @classmethod
    def parse(cls, text: str) -> Interpolation:
        parts = text.split(":")
        try:
            numbers = [int(part) for part in parts]
        except ValueError:
            numbers = []
        from ganzoo.config import MAX_SEED

        if len(numbers) not in (2, 3) or min(numbers) < 0 or max(numbers[:2]) > MAX_SEED:
            raise LatentError(f"--interpolate {text!r}: expected SEED_A:SEED_B[:STEPS] with seeds 0..{MAX_SEED}, "
                              "e.g. 0:1:8")
        if len(numbers) == 3 and numbers[2] < 2:
            raise LatentError(f"--interpolate {text!r}: at least 2 steps are needed")
        return cls((numbers[0], numbers[1]), *numbers[2:])


@dataclass
class Grid:
    """Images of a latent grid, ``nrow`` images per row (rows first)."""

    images: torch.Tensor
    nrow: int


def require_latents(state: GANState, option: str) -> None:
    """Latent options need a noise model that declares latents (translation models have none)."""
    if state.spec.image_to_image:
        raise LatentError(f"{option}: model {state.spec.name!r} translates images; it has no latents to choose")
    if not state.latents:
        raise LatentError(f"{option}: model {state.spec.name!r} declares no latents")


def apply_sample_settings(state: GANState, overrides: list[str]) -> None:
    """Apply ``--set sample.KEY=VALUE`` overrides to the state's ``[sample]`` settings (what samplers read)."""
    from ganzoo.config import with_sample_settings as override

    state.config = override(state.spec, state.config, overrides)


def traversal_grid(state: GANState, traversal: Traversal, num: int, seed: int,
                   fixed: Mapping[str, torch.Tensor] | None = None, label: int | None = None,
                   truncation: float | None = None) -> Grid:
    """A grid whose columns sweep one latent (``traversal.steps`` values) and whose rows are the values of the
    model's first categorical latent that is neither fixed nor swept, else ``num // steps`` seeded draws.

    ``fixed`` latent values (one value each) hold in every cell; ``label`` fixes the class of a conditional
    model, whose rows otherwise cycle through the classes.
    """
    require_latents(state, "--traverse")
    fixed = {name: value[:1] for name, value in (fixed or {}).items()}
    given = dict(fixed)
    rows = max(1, num // traversal.steps)
    for name, prior in state.latents.items():
        if isinstance(prior, Categorical) and name not in fixed and name != traversal.name:
            rows, given[name] = prior.k, torch.arange(prior.k)
            break
    check_sample_memory(state, rows * traversal.steps, "--traverse")
    latents = traversal_latents(state, traversal, rows, torch.Generator().manual_seed(seed), given, truncation)
    return _grid(state, latents, rows, traversal.steps, label)


def interpolation_grid(state: GANState, interpolation: Interpolation, num: int,
                       fixed: Mapping[str, torch.Tensor] | None = None, label: int | None = None,
                       truncation: float | None = None) -> Grid:
    """``max(1, num // steps)`` rows, each a path of ``steps`` images from the first seed's draws to the
    second's (:func:`interpolation_latents`); ``fixed`` latents and ``label`` as for :func:`traversal_grid`."""
    require_latents(state, "--interpolate")
    rows = max(1, num // interpolation.steps)
    check_sample_memory(state, rows * interpolation.steps, "--interpolate")
    fixed = {name: value[:1] for name, value in (fixed or {}).items()}
    latents = interpolation_latents(state, interpolation.seeds, interpolation.steps, rows, fixed, truncation)
    return _grid(state, latents, rows, interpolation.steps, label)


def _grid(state: GANState, latents: dict[str, torch.Tensor], rows: int, columns: int, label: int | None) -> Grid:
    labels = None
    if state.spec.conditional:
        classes = max(1, int(state.model_config.num_classes))
        per_row = torch.full((rows,), label) if label is not None else torch.arange(rows) % classes
        labels = per_row.repeat_interleave(columns).to(state.device)
    return Grid(sample_images(state, rows * columns, labels=labels, latents=latents), columns)


def _rows(given: Mapping[str, torch.Tensor] | None, rows: int) -> dict[str, torch.Tensor] | None:
    """Per-row values: kept when ``given`` has one per row, else its first value repeated."""
    if not given:
        return None
    return {name: value if len(value) == rows else value[:1].expand(rows, *value.shape[1:]).clone()
            for name, value in given.items()}


def _split(text: str, option: str, form: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise LatentError(f"{option} {text!r}: expected {form}")
    return name.strip(), value.strip()


def _prior(latents: Mapping[str, Latent], name: str) -> Latent:
    if name not in latents:
        raise LatentError(f"the model has no latent {name!r} (its latents: {', '.join(latents) or 'none'})")
    return latents[name]
