"""Datasets held in memory as one tensor per field: batches are gathered by indexing, with no workers."""

from __future__ import annotations

from typing import Mapping

import torch
from torch.utils.data import Dataset


class PreloadedDataset(Dataset):
    """Dict items backed by whole tensors (``tensors[key][i]`` is field ``key`` of item ``i``).

    The loader recognises the ``tensors`` attribute and gathers a batch with one indexing operation,
    which is what keeps small datasets (digits, a few thousand images) from slowing a CPU run.
    """

    def __init__(self, tensors: Mapping[str, torch.Tensor]) -> None:
        lengths = {key: len(value) for key, value in tensors.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"all fields need the same number of items, got {lengths}")
        self.tensors = dict(tensors)

    def __len__(self) -> int:
        return len(next(iter(self.tensors.values())))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        return {key: value[index] for key, value in self.tensors.items()}

    def gather(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """The batch of items at ``indices``."""
        return {key: value.index_select(0, indices) for key, value in self.tensors.items()}
