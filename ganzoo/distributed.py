"""Multi-process training under ``torchrun``: process group, DDP wrapping and agreement between ranks.

The same ``ganzoo train`` command runs in one process or under ``torchrun --nproc_per_node=N``; the
environment variables torchrun sets (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``) switch this on.  NCCL is
used on GPUs and gloo on CPUs.  Rank 0 alone logs, samples and writes checkpoints.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in a (possibly single-process) run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str = ""

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True for the process that logs and writes files."""
        return self.rank == 0


def init_from_environment(device_type: str) -> DistributedContext:
    """Join the process group torchrun describes in the environment (single process: no group)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    backend = "nccl" if device_type == "cuda" else "gloo"
    if device_type == "cuda":
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return DistributedContext(rank, world_size, local_rank, backend)


def local_device(device: torch.device, context: DistributedContext) -> torch.device:
    """The device of this process: ``cuda:LOCAL_RANK`` for distributed GPU runs, else ``device``."""
    if context.enabled and device.type == "cuda":
        return torch.device("cuda", context.local_rank)
    return device


def wrap_networks(networks: dict[str, nn.Module], device: torch.device) -> None:
    """Wrap every trainable network in DistributedDataParallel, in place (frozen ones stay as they are)."""
    for name, net in list(networks.items()):
        if isinstance(net, nn.parallel.DistributedDataParallel) or not any(p.requires_grad for p in net.parameters()):
            continue
        device_ids = [device.index] if device.type == "cuda" else None
        networks[name] = nn.parallel.DistributedDataParallel(net, device_ids=device_ids)


def any_rank(flags: list[bool], context: DistributedContext) -> list[bool]:
    """For each flag, whether it is set on at least one rank (one collective; every rank must call this)."""
    if not context.enabled:
        return list(flags)
    value = torch.tensor([1.0 if flag else 0.0 for flag in flags])
    if context.backend == "nccl":
        value = value.cuda()
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in value.tolist()]


def launched_rank() -> int:
    """This process's rank as torchrun announces it (0 outside torchrun), usable before the group exists."""
    return int(os.environ.get("RANK", "0"))


def barrier(context: DistributedContext) -> None:
    """Wait for every rank (no-op in a single process)."""
    if context.enabled:
        dist.barrier()


def shutdown(context: DistributedContext) -> None:
    """Leave the process group this module joined."""
    if context.enabled and dist.is_initialized():
        dist.destroy_process_group()
