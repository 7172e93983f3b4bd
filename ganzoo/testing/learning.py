"""A cheap yardstick for learning tests: how far generated images are from real ones, without a pretrained network.

:func:`pixel_frechet_distance` is FID's formula on Gaussians fitted to 8x8-average-pooled pixels: deterministic,
fast on a CPU and good enough to tell a short training run from an untrained generator.  Real metrics live in
``ganzoo bench`` and ``benchmarks/``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy import linalg


def pixel_frechet_distance(images: torch.Tensor, reference: torch.Tensor, pooled: int = 8) -> float:
    """Fréchet distance between Gaussians fitted to ``pooled`` x ``pooled``-pooled pixels of two image sets in [-1, 1]."""

    def stats(x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        features = F.adaptive_avg_pool2d(x.float().cpu(), pooled).flatten(1).double().numpy()
        return features.mean(0), np.cov(features, rowvar=False)

    (mu_a, cov_a), (mu_b, cov_b) = stats(images), stats(reference)
    covmean = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * covmean))
