"""Named latent inputs of a model and their priors.

A model declares its latents through the ``ganzoo_latents`` hook as a mapping of names to priors:
:class:`Normal` (``dim`` standard normal values), :class:`Uniform` (``dim`` values in ``[low, high)``) and
:class:`Categorical` (one class index in ``0 .. k-1``).  The classes are plain dataclasses (no torch), so
declaring latents stays cheap; :func:`draw_latents` turns them into tensors.

Seeded draws (a ``torch.Generator`` given) happen on the CPU and are then moved to the device, so the same
seed gives the same latents on every device.  Unseeded draws (training) use the global RNG of the device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping, Union

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Normal:
    """``dim`` independent standard normal values per sample (float32, shape ``(N, dim)``)."""

    dim: int

    def describe(self) -> str:
        return f"normal({self.dim})"


@dataclass(frozen=True)
class Uniform:
    """``dim`` independent values uniform in ``[low, high)`` per sample (float32, shape ``(N, dim)``)."""

    dim: int
    low: float = -1.0
    high: float = 1.0

    def describe(self) -> str:
        return f"uniform({self.dim}, {self.low:g}, {self.high:g})"


@dataclass(frozen=True)
class Categorical:
    """One class index in ``0 .. k-1`` per sample, uniformly (int64, shape ``(N,)``); one-hot it in the network."""

    k: int

    def describe(self) -> str:
        return f"categorical({self.k})"


Latent = Union[Normal, Uniform, Categorical]
LATENT_TYPES = (Normal, Uniform, Categorical)


class LatentError(ValueError):
    """A latent value or name that does not fit the model's declared latents."""


def validate_latents(latents: Mapping[str, Latent], owner: str) -> dict[str, Latent]:
    """Check a model's declaration: names are identifiers, priors are ganzoo latent types with sane sizes."""
    checked: dict[str, Latent] = {}
    for name, prior in dict(latents).items():
        if not (isinstance(name, str) and name.isidentifier()):
            raise LatentError(f"{owner}: latent name {name!r} must be a Python identifier (it becomes a keyword argument)")
        if not isinstance(prior, LATENT_TYPES):
            raise LatentError(f"{owner}: latent {name!r} must be ganzoo.latents.Normal, Uniform or Categorical, "
                              f"got {type(prior).__name__}")
        size = prior.k if isinstance(prior, Categorical) else prior.dim
        if size < 1:
            raise LatentError(f"{owner}: latent {name!r} has size {size}; it must be at least 1")
        checked[name] = prior
    return checked


def _truncated_normal(num: int, dim: int, threshold: float, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """Normal values with every entry beyond ``threshold`` resampled (BigGAN's truncation trick)."""
    import torch

    z = torch.randn(num, dim, generator=generator, device=device)
    outside = z.abs() > threshold
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), generator=generator, device=device)
        outside = z.abs() > threshold
    return z


def draw_latent(prior: Latent, num: int, generator: torch.Generator | None = None, device: torch.device | str = "cpu",
                truncation: float | None = None) -> torch.Tensor:
    """``num`` draws from one prior; seeded draws are made on the CPU then moved (same values on every device)."""
    import torch

    device = torch.device(device)
    where = torch.device("cpu") if generator is not None else device
    if generator is not None and generator.device.type != "cpu":
        raise LatentError("seeded latents are drawn on the CPU: pass a CPU torch.Generator (torch.Generator())")
    if isinstance(prior, Categorical):
        value = torch.randint(0, prior.k, (num,), generator=generator, device=where)
    elif isinstance(prior, Uniform):
        value = torch.rand(num, prior.dim, generator=generator, device=where) * (prior.high - prior.low) + prior.low
    elif truncation is not None and truncation > 0:
        value = _truncated_normal(num, prior.dim, truncation, generator, where)
    else:
        value = torch.randn(num, prior.dim, generator=generator, device=where)
    return value.to(device)


def check_given(latents: Mapping[str, Latent], given: Mapping[str, torch.Tensor], num: int, owner: str) -> None:
    """Chosen latent values must name declared latents and have the prior's shape (``(num, dim)`` or ``(num,)``)."""
    for name, value in given.items():
        if name not in latents:
            allowed = ", ".join(latents) or "none"
            raise LatentError(f"{owner} has no latent {name!r} (its latents: {allowed})")
        prior = latents[name]
        expected = (num,) if isinstance(prior, Categorical) else (num, prior.dim)
        if tuple(value.shape) != expected:
            raise LatentError(f"latent {name!r} of {owner}: expected shape {expected} for {prior.describe()}, "
                              f"got {tuple(value.shape)}")
        if isinstance(prior, Categorical) and len(value) and (int(value.min()) < 0 or int(value.max()) >= prior.k):
            raise LatentError(f"latent {name!r} of {owner} is categorical({prior.k}): values must be in 0..{prior.k - 1}")


def draw_latents(
    latents: Mapping[str, Latent],
    num: int,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    given: Mapping[str, torch.Tensor] | None = None,
    truncation: float | None = None,
    owner: str = "the model",
) -> dict[str, torch.Tensor]:
    """One tensor per declared latent for ``num`` samples: ``given`` values are kept (moved to ``device``), the
    others drawn in declaration order (so a seed gives the same draws whichever latents are fixed).

    ``truncation`` resamples normal values beyond the threshold.  With a ``generator`` (a CPU
    ``torch.Generator``) the result is the same on every device.
    """
    import torch

    given = dict(given or {})
    check_given(latents, given, num, owner)
    values: dict[str, torch.Tensor] = {}
    for name, prior in latents.items():
        drawn = draw_latent(prior, num, generator, device, truncation)
        values[name] = given[name].to(device=torch.device(device), dtype=drawn.dtype) if name in given else drawn
    return values


def seeded_latents(latents: Mapping[str, Latent], num: int, seed: int, device: torch.device | str = "cpu",
                   given: Mapping[str, torch.Tensor] | None = None, truncation: float | None = None) -> dict[str, torch.Tensor]:
    """:func:`draw_latents` from a fresh CPU generator seeded with ``seed``: identical on every device."""
    import torch

    return draw_latents(latents, num, torch.Generator().manual_seed(seed), device, given, truncation)


def slerp(start: torch.Tensor, end: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation between two latent vectors ``(D,)`` at each weight in ``weights`` ``(T,)`` -> ``(T, D)``.

    Falls back to linear interpolation when the vectors are (nearly) parallel.
    """
    import torch

    a, b = start.flatten().double(), end.flatten().double()
    cos = torch.dot(a / a.norm(), b / b.norm()).clamp(-1, 1)
    omega = torch.arccos(cos)
    t = weights.double()[:, None]
    if omega.abs() < 1e-6:
        mixed = (1 - t) * a + t * b
    else:
        mixed = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)
    return mixed.to(start.dtype).reshape(len(weights), *start.shape)


def describe(latents: Mapping[str, Latent]) -> dict[str, str]:
    """``{name: "normal(100)"}``: a JSON-ready description (for ``ganzoo info``)."""
    return {name: prior.describe() for name, prior in latents.items()}
