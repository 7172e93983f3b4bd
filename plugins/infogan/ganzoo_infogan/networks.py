"""InfoGAN's MNIST networks (Chen et al. 2016, appendix C.1), scaled to the image size.

G: [z, one-hot(code), c1..cN] -> FC 1024-BN-ReLU -> FC 128*(S/4)^2-BN-ReLU -> deconv4 64-BN-ReLU -> deconv4 C, tanh.
D: trunk conv4 64 lReLU -> conv4 128-BN lReLU -> FC 1024-BN lReLU; D head FC -> 1 score;
Q head FC 128-BN lReLU -> K categorical logits + one Gaussian mean per continuous code.

The Q head is part of the discriminator network, not a second network: it shares D's trunk, so one optimizer
(D's, lr_d) updates the trunk, the D head and the Q head, and ``state.discriminate`` keeps returning plain scores.
:meth:`InfoDiscriminator.code_predictions` reuses the trunk features of D's last forward pass on the same
images (the train step scores the fakes, then asks Q about them), so Q costs no second trunk pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ganzoo.nn.init import normal_init_

SLOPE = 0.1  # the authors' leaky ReLU slope (openai/InfoGAN's leaky_rectify default)


def continuous_names(count: int) -> list[str]:
    """The latent names of the continuous codes: ``c1 .. cN``."""
    return [f"c{index}" for index in range(1, count + 1)]


class InfoGenerator(nn.Module):
    """G(z, code, c1, ..., cN) -> images in [-1, 1]; ``code`` holds class indices (one-hot inside)."""

    def __init__(self, noise_dim: int, categories: int, continuous: int, channels: int, image_size: int,
                 hidden: int = 1024, ngf: int = 64) -> None:
        super().__init__()
        self.categories, self.code_names = categories, continuous_names(continuous)
        self.base = image_size // 4
        inputs = noise_dim + categories + continuous
        self.fc = nn.Sequential(
            nn.Linear(inputs, hidden), nn.BatchNorm1d(hidden), nn.ReLU(True),
            nn.Linear(hidden, 2 * ngf * self.base**2), nn.BatchNorm1d(2 * ngf * self.base**2), nn.ReLU(True),
        )
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, channels, 4, 2, 1), nn.Tanh(),
        )
        normal_init_(self)

    def forward(self, z: torch.Tensor, code: torch.Tensor, **continuous: torch.Tensor) -> torch.Tensor:
        missing = sorted(set(self.code_names) - set(continuous))
        if missing or set(continuous) - set(self.code_names):
            raise TypeError(f"InfoGenerator takes continuous codes {self.code_names}, got {sorted(continuous)}")
        parts = [z, F.one_hot(code.long(), self.categories).to(z.dtype), *(continuous[name] for name in self.code_names)]
        hidden = self.fc(torch.cat(parts, dim=1))
        return self.deconv(hidden.view(hidden.size(0), -1, self.base, self.base))


@dataclass
class CodePrediction:
    """Q's output for a batch: ``logits`` (N, K) of the categorical code, ``means`` (N, codes) of the continuous ones."""

    logits: torch.Tensor
    means: torch.Tensor


class InfoDiscriminator(nn.Module):
    """D(x) -> one score per image; :meth:`code_predictions` is Q(c|x) from the same trunk."""

    def __init__(self, categories: int, continuous: int, channels: int, image_size: int,
                 hidden: int = 1024, q_hidden: int = 128, ndf: int = 64) -> None:
        super().__init__()
        self.categories, self.continuous = categories, continuous
        side = image_size // 4
        self.trunk = nn.Sequential(
            nn.Conv2d(channels, ndf, 4, 2, 1), nn.LeakyReLU(SLOPE, True),
            nn.Conv2d(ndf, 2 * ndf, 4, 2, 1), nn.BatchNorm2d(2 * ndf), nn.LeakyReLU(SLOPE, True),
            nn.Flatten(), nn.Linear(2 * ndf * side * side, hidden), nn.BatchNorm1d(hidden), nn.LeakyReLU(SLOPE, True),
        )
        self.head = nn.Linear(hidden, 1)
        self.q_head = nn.Sequential(
            nn.Linear(hidden, q_hidden), nn.BatchNorm1d(q_hidden), nn.LeakyReLU(SLOPE, True),
            nn.Linear(q_hidden, categories + continuous),
        )
        normal_init_(self)
        self._last: tuple[torch.Tensor, bool, int, torch.Tensor] | None = None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.trunk(images)
        # keep the input itself (its storage cannot be reused while cached) and the grad mode of the features
        self._last = (images, torch.is_grad_enabled(), images._version, features)
        return self.head(features).flatten()

    def _features(self, images: torch.Tensor) -> torch.Tensor:
        if self._last is not None:
            cached, grad_mode, version, features = self._last
            same = (cached.data_ptr() == images.data_ptr() and cached.shape == images.shape
                    and cached.stride() == images.stride() and version == images._version
                    and cached.requires_grad == images.requires_grad and grad_mode == torch.is_grad_enabled())
            if same:
                return features
        return self.trunk(images)

    def code_predictions(self, images: torch.Tensor) -> CodePrediction:
        """Q(c|x): categorical logits and continuous-code means, from D's last trunk pass on ``images`` if any."""
        output = self.q_head(self._features(images))
        return CodePrediction(output[:, :self.categories], output[:, self.categories:])

    def forget(self) -> None:
        """Drop the cached trunk features (and the graph they hold)."""
        self._last = None
