"""Stand-in for ``ganzoo.data``'s digits dataset while that module is not installed (temporary).

Only used when :func:`ganzoo.data.build_dataset` cannot be imported.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset


class DigitsFallback(Dataset):
    """sklearn's 8x8 digits upscaled (bicubic) to ``image_size``; 80/20 stratified split, seed 0."""

    def __init__(self, split: str, image_size: int = 32, channels: int = 1) -> None:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()
        indices = np.arange(len(digits.target))
        train, test = train_test_split(indices, test_size=0.2, random_state=0, stratify=digits.target)
        chosen = train if split == "train" else test
        images = []
        for index in chosen:
            pixels = (digits.images[index] / 16.0 * 255.0).astype(np.uint8)
            image = Image.fromarray(pixels, mode="L").resize((image_size, image_size), Image.Resampling.BICUBIC)
            array = np.asarray(image, dtype=np.float32) / 127.5 - 1.0
            images.append(torch.from_numpy(array)[None].expand(channels, -1, -1).clone())
        self.images = torch.stack(images)
        self.labels = torch.as_tensor(digits.target[chosen], dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {"image": self.images[index], "label": self.labels[index]}
