"""L1 / PSNR / SSIM for paired image-to-image evaluation, against values known in closed form."""

from __future__ import annotations

import math

import pytest
import torch

from ganzoo.metrics.paired import PSNR_CAP, paired_metrics


def _images(seed: int = 0, shape: tuple[int, ...] = (4, 3, 32, 32)) -> torch.Tensor:
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_identical_images() -> None:
    images = _images()
    values = paired_metrics(images, images.clone())
    assert values["l1"] == 0.0
    assert values["psnr"] == PSNR_CAP
    assert values["ssim"] == pytest.approx(1.0, abs=1e-6)


def test_constant_offset_gives_known_l1_and_psnr() -> None:
    targets = torch.zeros(2, 3, 16, 16)
    outputs = targets + 0.2  # 0.1 on the [0, 1] scale: MSE 0.01 -> PSNR 20 dB
    values = paired_metrics(outputs, targets)
    assert values["l1"] == pytest.approx(0.2)
    assert values["psnr"] == pytest.approx(20.0)


def test_psnr_of_gaussian_noise_matches_its_variance() -> None:
    targets = torch.zeros(8, 3, 64, 64)
    sigma = 0.05  # on the [0, 1] scale, i.e. 0.1 on [-1, 1]; mid-grey targets so nothing is clipped
    noise = torch.randn(targets.shape, generator=torch.Generator().manual_seed(1)) * 2 * sigma
    values = paired_metrics(targets + noise, targets)
    assert values["psnr"] == pytest.approx(-10 * math.log10(sigma**2), abs=0.1)
    assert values["l1"] == pytest.approx(2 * sigma * math.sqrt(2 / math.pi), rel=0.02)  # mean |N(0, s)| = s*sqrt(2/pi)


def test_ssim_of_flat_images_is_the_luminance_term() -> None:
    # with zero variance SSIM reduces to (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1), C1 = (0.01 * 1)^2
    a, b = 0.3, 0.7
    outputs = torch.full((1, 1, 16, 16), a * 2 - 1)
    targets = torch.full((1, 1, 16, 16), b * 2 - 1)
    c1 = 0.01**2
    assert paired_metrics(outputs, targets)["ssim"] == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), abs=1e-5)


def test_metrics_order_a_close_and_a_far_output() -> None:
    targets = _images(0)
    close = (targets + 0.05 * _images(1)).clamp(-1, 1)
    far = _images(2)
    near_values, far_values = paired_metrics(close, targets), paired_metrics(far, targets)
    assert near_values["l1"] < far_values["l1"]
    assert near_values["psnr"] > far_values["psnr"]
    assert near_values["ssim"] > 0.9 > 0.1 > far_values["ssim"]


def test_small_images_and_bad_shapes() -> None:
    tiny = _images(shape=(2, 1, 8, 8))
    assert paired_metrics(tiny, tiny)["ssim"] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="same shape"):
        paired_metrics(_images(), _images(shape=(4, 3, 16, 16)))
