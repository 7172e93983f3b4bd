"""``train.compile``: torch.compile of the trainable networks, without changing what a checkpoint holds.

Networks are compiled in place with :meth:`torch.nn.Module.compile`, which compiles the module's call but keeps
the module object itself: ``state_dict`` keys stay free of ``_orig_mod.`` prefixes, so compiled and eager runs
write interchangeable checkpoints and a run can be resumed with compilation switched on or off.  Frozen
networks are compiled too (they run every step); EMA copies are not (they only sample).
"""

from __future__ import annotations

from typing import Mapping

from torch import nn

from ganzoo.config import TrainConfig


def compile_networks(networks: Mapping[str, nn.Module], train: TrainConfig) -> list[str]:
    """Compile every network in ``networks`` in place when ``train.compile`` is on; returns the compiled names."""
    if not train.compile:
        return []
    options = {"backend": train.compile_backend}
    if train.compile_backend == "inductor":
        options["mode"] = train.compile_mode
    for net in networks.values():
        net.compile(**options)
    return list(networks)
