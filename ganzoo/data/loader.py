"""Deterministic, resumable batches: epoch ``e`` visits the data in an order fixed by ``(seed, e)``.

The order comes from :class:`torch.utils.data.DistributedSampler` (one replica in a single process), so
distributed runs shard the same permutation across ranks.  Because the order is a pure function of the
seed and the epoch, a resumed run jumps straight to the saved batch without replaying the data.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from ganzoo.data.images import DataError


class _EpochBatchSampler(Sampler[list[int]]):
    """Index batches of one epoch from a given batch on; re-positioned before each pass."""

    def __init__(self, sampler: DistributedSampler, batch_size: int) -> None:
        self.sampler, self.batch_size = sampler, batch_size
        self.start = 0

    def set_position(self, epoch: int, start: int) -> None:
        self.sampler.set_epoch(epoch)
        self.start = start

    def __len__(self) -> int:
        return len(self.sampler) // self.batch_size - self.start

    def __iter__(self) -> Iterator[list[int]]:
        indices = list(self.sampler)
        for batch in range(self.start, len(indices) // self.batch_size):
            yield indices[batch * self.batch_size:(batch + 1) * self.batch_size]


def _worker_message(text: str) -> str:
    """The original one-line message of an error re-raised from a DataLoader worker (its last line)."""
    if "Original Traceback" not in text:
        return text
    last = text.rstrip().splitlines()[-1]
    return last.split(": ", 1)[1] if last.startswith(DataError.__module__) and ": " in last else last


class EpochLoader:
    """Full batches of ``dataset`` in the order of ``(seed, epoch)``, starting anywhere in an epoch.

    Datasets with a ``tensors`` dict (preloaded in memory) are gathered by indexing; others go through a
    :class:`~torch.utils.data.DataLoader` with ``num_workers`` persistent worker processes.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        seed: int = 0,
        num_workers: int = 0,
        rank: int = 0,
        world_size: int = 1,
        pin_memory: bool = False,
    ) -> None:
        self.dataset = dataset
        self.batch_size = batch_size
        self.seed = seed
        self.sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
        self.batch_sampler = _EpochBatchSampler(self.sampler, batch_size)
        self.batches_per_epoch = len(self.sampler) // batch_size
        if self.batches_per_epoch == 0:
            raise DataError(
                f"the dataset has {len(dataset)} items, fewer than one batch of {batch_size}"  # type: ignore[arg-type]
                f"{f' per process ({world_size} processes)' if world_size > 1 else ''}; lower train.batch_size"
            )
        tensors = getattr(dataset, "tensors", None)
        self.tensors: Mapping[str, torch.Tensor] | None = tensors if isinstance(tensors, dict) else None
        self.pin_memory = pin_memory
        self.loader: DataLoader | None = None
        if self.tensors is None:
            self.loader = DataLoader(
                dataset, batch_sampler=self.batch_sampler, num_workers=num_workers, pin_memory=pin_memory,
                persistent_workers=num_workers > 0,
                # its own generator: creating worker seeds must not consume the training RNG (exact resume)
                generator=torch.Generator().manual_seed(seed),
            )

    def epoch(self, epoch: int, start: int = 0) -> Iterator[dict[str, Any]]:
        """Batches of ``epoch`` from batch ``start`` on."""
        self.batch_sampler.set_position(epoch, start)
        if self.loader is not None:
            try:
                yield from self.loader
            except DataError as exc:  # from a worker process: its message carries the worker's whole traceback
                raise DataError(_worker_message(str(exc))) from None
            return
        assert self.tensors is not None
        for indices in self.batch_sampler:
            index = torch.as_tensor(indices, dtype=torch.long)
            batch = {key: value.index_select(0, index) for key, value in self.tensors.items()}
            # page-locked batches let the trainer's non_blocking copies to the GPU overlap with compute
            yield {key: value.pin_memory() for key, value in batch.items()} if self.pin_memory else batch


class EpochBatchSource:
    """The trainer's :class:`~ganzoo.state.BatchSource`: counts consumed batches and knows its data position."""

    def __init__(
        self,
        loader: EpochLoader,
        device: torch.device,
        epoch: int = 0,
        batch_in_epoch: int = 0,
        channels_last: bool = False,
    ) -> None:
        self.loader = loader
        self.device = device
        self.epoch = epoch
        self.batch_in_epoch = batch_in_epoch
        self.consumed = 0
        self.channels_last = channels_last
        self._batches: Iterator[dict[str, Any]] | None = None

    def next(self) -> dict[str, torch.Tensor]:
        """The next batch on the device (images channels-last when the networks are)."""
        if self._batches is None:
            self._batches = self.loader.epoch(self.epoch, self.batch_in_epoch)
        try:
            batch = next(self._batches)
        except StopIteration:
            self.epoch += 1
            self.batch_in_epoch = 0
            self._batches = self.loader.epoch(self.epoch, 0)
            batch = next(self._batches)
        self.batch_in_epoch += 1
        self.consumed += 1
        return {key: self._to_device(value) for key, value in batch.items()}

    def _to_device(self, value: torch.Tensor) -> torch.Tensor:
        value = value.to(self.device, non_blocking=True)
        if self.channels_last and value.dim() == 4:
            value = value.contiguous(memory_format=torch.channels_last)
        return value

    def position(self) -> dict[str, int]:
        """Where the next batch comes from: epoch, batches of it already consumed, the sampler seed."""
        if self._batches is not None and self.batch_in_epoch >= self.loader.batches_per_epoch:
            return {"epoch": self.epoch + 1, "batch_in_epoch": 0, "seed": self.loader.seed}
        return {"epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch, "seed": self.loader.seed}
