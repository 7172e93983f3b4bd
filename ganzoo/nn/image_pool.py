"""CycleGAN's history of generated images (Shrivastava et al. 2017), kept as one tensor for checkpoints.

Discriminators are updated with a mix of the newest fakes and older ones, which damps oscillation.  Until
the pool holds ``pool_size`` images every new fake is stored and returned as is; afterwards each fake,
with probability 0.5, is swapped with a random stored one (the stored one is returned), otherwise it is
returned as is.
"""

from __future__ import annotations

import torch


class ImagePool:
    """A pool of up to ``pool_size`` images; its whole state is :attr:`images`, an ``(n, C, H, W)`` tensor.

    Create it from a saved tensor (``ImagePool(50, state.extras["pool_b"])``), :meth:`query` it, and store
    :attr:`images` back: no pickled objects, so checkpoints can hold it.  ``pool_size=0`` disables the pool.
    """

    def __init__(self, pool_size: int = 50, images: torch.Tensor | None = None) -> None:
        if pool_size < 0:
            raise ValueError(f"pool_size must be >= 0, got {pool_size}")
        self.pool_size = pool_size
        self.images = images if images is not None else torch.empty(0)
        if len(self.images) > pool_size:
            raise ValueError(f"a pool of size {pool_size} cannot hold {len(self.images)} images")

    def __len__(self) -> int:
        return len(self.images)

    @torch.no_grad()
    def query(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Images to show the discriminator in place of ``images`` (detached); updates the pool."""
        images = images.detach()
        if self.pool_size == 0:
            return images
        if len(self.images) == 0:
            self.images = images.new_empty((0, *images.shape[1:]))
        elif self.images.shape[1:] != images.shape[1:]:
            raise ValueError(f"the pool holds images of shape {tuple(self.images.shape[1:])}, got {tuple(images.shape[1:])}")
        stored = self.images.to(images.device, images.dtype)
        returned = []
        for image in images:
            if len(stored) < self.pool_size:
                stored = torch.cat([stored, image[None]])
                returned.append(image)
                continue
            swap = float(torch.rand((), generator=generator)) < 0.5
            if swap:
                slot = int(torch.randint(len(stored), (), generator=generator))
                returned.append(stored[slot].clone())
                stored[slot] = image
            else:
                returned.append(image)
        self.images = stored
        return torch.stack(returned)
