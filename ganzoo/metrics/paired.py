"""Per-pixel metrics for paired image-to-image models: L1, PSNR and SSIM of outputs against their targets.

Images come in ganzoo's convention, ``(N, C, H, W)`` in ``[-1, 1]``.  L1 is measured on that scale (as the
pix2pix loss is); PSNR and SSIM on the ``[0, 1]`` scale, as image-quality papers report them.  SSIM is
pytorch-msssim's implementation of Wang et al. 2004 (11x11 Gaussian window, sigma 1.5, K = 0.01 / 0.03,
no padding).
"""

from __future__ import annotations

import math

import torch

PSNR_CAP = 100.0
"""PSNR reported for identical images (where it is infinite), so averages and JSON stay finite."""

SSIM_WINDOW = 11


def _check(outputs: torch.Tensor, targets: torch.Tensor) -> None:
    if outputs.shape != targets.shape:
        raise ValueError(f"outputs {tuple(outputs.shape)} and targets {tuple(targets.shape)} must have the same shape")
    if outputs.dim() != 4 or outputs.size(0) == 0:
        raise ValueError(f"expected a non-empty batch of images (N, C, H, W), got shape {tuple(outputs.shape)}")


def psnr(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """PSNR in dB of each image pair on the [0, 1] scale, capped at :data:`PSNR_CAP` (shape ``(N,)``)."""
    mse = ((outputs - targets) / 2).pow(2).flatten(1).mean(1)
    cap = torch.full_like(mse, PSNR_CAP)
    return torch.where(mse > 0, (-10.0 * torch.log10(mse.clamp(min=1e-30))).clamp(max=PSNR_CAP), cap)


def ssim(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of each image pair on the [0, 1] scale (shape ``(N,)``); images smaller than 11 px use a
    smaller odd window."""
    from pytorch_msssim import ssim as library_ssim

    side = min(outputs.shape[-2:])
    window = min(SSIM_WINDOW, side if side % 2 else side - 1)
    return library_ssim((outputs + 1) / 2, (targets + 1) / 2, data_range=1.0, size_average=False, win_size=window)


@torch.no_grad()
def paired_metrics(outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Mean ``l1`` ([-1, 1] scale), ``psnr`` (dB, [0, 1] scale, capped) and ``ssim`` over a batch of pairs.

    PSNR is averaged per image (not computed from the pooled error), the usual convention in image-to-image
    papers.
    """
    _check(outputs, targets)
    outputs = outputs.detach().double().cpu().clamp(-1, 1)
    targets = targets.detach().double().cpu().clamp(-1, 1)
    values = {
        "l1": float((outputs - targets).abs().mean()),
        "psnr": float(psnr(outputs, targets).mean()),
        "ssim": float(ssim(outputs, targets).mean()),
    }
    if not all(math.isfinite(value) for value in values.values()):
        raise ValueError(f"paired metrics are not finite: {values}")
    return values
