"""The Laplacian pyramid operators shared by LAPGAN's training and sampling."""

from __future__ import annotations

import pytest
import torch

from ganzoo.nn.pyramid import downsample, gaussian_pyramid, laplacian_pyramid, reconstruct, upsample


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_pyramid_reconstructs_the_image_exactly(dtype: torch.dtype) -> None:
    images = torch.rand(3, 2, 32, 32, generator=torch.Generator().manual_seed(0), dtype=dtype) * 2 - 1
    pyramid = laplacian_pyramid(images, levels=3)
    assert [tuple(level.shape[-2:]) for level in pyramid] == [(8, 8), (16, 16), (32, 32)]
    tolerance = 1e-6 if dtype == torch.float32 else 1e-13  # float rounding of (I - l) + l, nothing more
    torch.testing.assert_close(reconstruct(pyramid), images, rtol=0, atol=tolerance)


def test_bands_hold_the_detail_the_coarse_image_lacks() -> None:
    images = torch.rand(2, 1, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    base, band = laplacian_pyramid(images, levels=2)
    torch.testing.assert_close(base, gaussian_pyramid(images, 2)[0])
    torch.testing.assert_close(band, images - upsample(downsample(images)))
    assert band.abs().mean() > 0.1  # random pixels are all detail
    flat = torch.full((1, 1, 16, 16), 0.3)  # a constant image has no detail at any level
    assert all(level.abs().max() < 1e-6 for level in laplacian_pyramid(flat, 3)[1:])


def test_operators_keep_the_mean_and_sizes() -> None:
    images = torch.rand(2, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    assert downsample(images).shape == (2, 3, 4, 4) and upsample(images).shape == (2, 3, 16, 16)
    torch.testing.assert_close(downsample(images).mean(dim=(2, 3)), images.mean(dim=(2, 3)))
    torch.testing.assert_close(downsample(upsample(images)).mean(dim=(2, 3)), images.mean(dim=(2, 3)))


def test_one_level_is_the_image_itself() -> None:
    images = torch.rand(1, 1, 4, 4)
    assert len(laplacian_pyramid(images, 1)) == 1 and torch.equal(reconstruct(laplacian_pyramid(images, 1)), images)


@pytest.mark.parametrize(("shape", "levels", "message"), [
    ((1, 1, 24, 24), 5, "divisible by 16"),
    ((1, 1, 32, 32), 0, "at least 1 level"),
    ((1, 32, 32), 2, r"\(N, C, H, W\)"),
])
def test_bad_inputs_are_named(shape: tuple[int, ...], levels: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        laplacian_pyramid(torch.zeros(shape), levels)
