"""The PPGN sampler (Nguyen et al. 2017, Eq. 11; the authors' ``sampler.py``) as a plain function.

Each step of a chain moves the code h of every chain at once::

    d_h = eps1 * (R(h) - h) + eps2 * d log p(y | G(h)) / dh + N(0, eps3^2)
    h  <- clip(h + step_size / mean|d_h| * d_h, low, high)

R(h) - h is the prior's score estimate (a DAE, Alain & Bengio 2014), the second term climbs the condition
network's log-probability of the requested class through the generator, and the noise term keeps it a
(nearly noiseless, with the paper's eps3) Langevin chain.  As in the authors' code the step is normalised by
the mean absolute value of d_h (per chain here, as every chain is an independent sample) and h is clipped to
the range of real codes.  The step size decays linearly from ``lr`` to ``lr_end``.

Unlike the authors' shortcut (only the requested class's logit receives the gradient ``1 - p_y``), the
condition term is the exact gradient of ``log_softmax(C(G(h)))[y]``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

PAPER_FEATURE_SCALE = 30.0  # the authors clip AlexNet fc6 codes to [0, 30]: the unit of the paper's settings


@dataclass(frozen=True)
class MCMCSettings:
    """Step count and step rule of a chain, in the units of h actually sampled (see :func:`scaled_settings`)."""

    steps: int = 200
    epsilon1: float = 1e-5
    epsilon2: float = 1.0
    epsilon3: float = 1e-17
    lr: float = 1.0
    lr_end: float = 1.0
    init_std: float = 1.0


def scaled_settings(paper: MCMCSettings, feature_scale: float) -> MCMCSettings:
    """Convert settings given in the paper's units (fc6 codes in [0, 30]) to codes whose range is ``feature_scale``.

    With h' = k h (k = feature_scale / 30) the prior term R(h) - h grows by k and the condition gradient
    shrinks by 1/k; keeping the direction of d_h (the step is normalised) needs eps1 / k^2 and eps3 / k, and
    the step size and the spread of the starting codes grow by k.
    """
    k = feature_scale / PAPER_FEATURE_SCALE
    return MCMCSettings(steps=paper.steps, epsilon1=paper.epsilon1 / k**2, epsilon2=paper.epsilon2,
                        epsilon3=paper.epsilon3 / k, lr=paper.lr * k, lr_end=paper.lr_end * k,
                        init_std=paper.init_std * k)


@dataclass
class ChainResult:
    """What a batch of chains produced.

    ``codes``/``images``: the final h and G(h); ``log_probs``: ``(steps + 1, N)`` log p(y | G(h)) before each
    step and after the last; ``snapshots``: G(h) at ``snapshot_steps`` (for chain previews), each ``(N, C, H, W)``.
    """

    codes: torch.Tensor
    images: torch.Tensor
    log_probs: torch.Tensor
    snapshot_steps: list[int] = field(default_factory=list)
    snapshots: list[torch.Tensor] = field(default_factory=list)


def clip_codes(codes: torch.Tensor, low: torch.Tensor | None, high: torch.Tensor | None) -> torch.Tensor:
    """Clip each dimension to ``[low, high]``; dimensions whose range is unknown (low > high) are left free."""
    if low is None or high is None:
        return codes
    known = low <= high
    lower = torch.where(known, low, torch.full_like(low, -torch.inf))
    upper = torch.where(known, high, torch.full_like(high, torch.inf))
    return torch.maximum(torch.minimum(codes, upper), lower)


def _condition_step(generator: nn.Module, log_prob: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                    codes: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(d log p(y | G(h)) / dh, log p, G(h))`` for every chain."""
    with torch.enable_grad():
        h = codes.detach().requires_grad_(True)
        images = generator(h)
        values = log_prob(images, labels)
        (gradient,) = torch.autograd.grad(values.sum(), h)
    return gradient, values.detach(), images.detach()


def run_chains(
    generator: nn.Module,
    log_prob: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    prior: Callable[[torch.Tensor], torch.Tensor],
    labels: torch.Tensor,
    start: torch.Tensor,
    settings: MCMCSettings,
    low: torch.Tensor | None = None,
    high: torch.Tensor | None = None,
    noise: torch.Generator | None = None,
    snapshot_every: int = 0,
    progress: bool = False,
) -> ChainResult:
    """Run ``len(labels)`` chains from the codes ``start`` for ``settings.steps`` steps (batched).

    ``log_prob(images, labels)`` is log p(y | x) of the condition network, ``prior(h)`` the DAE's
    reconstruction R(h).  Noise comes from ``noise`` (a seeded generator makes chains reproducible).
    ``snapshot_every > 0`` keeps G(h) every that many steps (and at the start and end) for previews.
    Gradients are enabled inside whatever grad mode the caller is in; no parameter gradient is kept.
    """
    from tqdm.auto import tqdm

    codes = clip_codes(start, low, high)
    history: list[torch.Tensor] = []
    snapshot_steps: list[int] = []
    snapshots: list[torch.Tensor] = []
    bar = tqdm(total=settings.steps, desc="ppgn chains", unit="step", leave=False,
               disable=not (progress and sys.stderr.isatty()))
    for step in range(settings.steps):
        step_size = settings.lr + (settings.lr_end - settings.lr) * step / settings.steps
        d_condition, values, images = _condition_step(generator, log_prob, codes, labels)
        history.append(values)
        if snapshot_every and step % snapshot_every == 0:
            snapshot_steps.append(step)
            snapshots.append(images)
        with torch.no_grad():
            d_h = settings.epsilon1 * (prior(codes) - codes) + settings.epsilon2 * d_condition
            if settings.epsilon3 > 0:  # drawn where the generator lives (the CPU): the same chains on every device
                device = noise.device if noise is not None else codes.device
                d_h = d_h + settings.epsilon3 * torch.randn(codes.shape, generator=noise, device=device).to(codes.device)
            scale = d_h.abs().mean(dim=1, keepdim=True)
            move = torch.where(scale > 0, step_size / scale.clamp_min(torch.finfo(d_h.dtype).tiny), 0.0)
            codes = clip_codes(codes + move * d_h, low, high)
        bar.update(1)
        bar.set_postfix(log_p=f"{float(values.mean()):.3f}", refresh=False)
    bar.close()
    with torch.no_grad():
        images = generator(codes)
        history.append(log_prob(images, labels))
    if snapshot_every:
        snapshot_steps.append(settings.steps)
        snapshots.append(images)
    return ChainResult(codes, images, torch.stack(history), snapshot_steps, snapshots)
