"""``train.compile``: torch.compile of the trainable networks, without changing what a checkpoint holds.

Networks are compiled in place with :meth:`torch.nn.Module.compile`, which compiles the module's call but keeps
the module object itself: ``state_dict`` keys stay free of ``_orig_mod.`` prefixes, so compiled and eager runs
write interchangeable checkpoints and a run can be resumed with compilation switched on or off.  Frozen
networks are compiled too (they run every step); EMA copies are not (they only sample).

Spectral norms' power iterations run eagerly inside compiled networks (a graph break per normalised layer):
with the inductor backend (torch 2.14) a compiled SAGAN discriminator otherwise fails in its first backward
pass with "one of the variables needed for gradient computation has been modified by an inplace operation"
(the ``u`` buffer saved for backward is updated in place by the next forward pass, e.g. on the fakes after
the reals), while eager and ``aot_eager`` runs are fine.
"""

from __future__ import annotations

import types
from typing import Mapping

import torch
from torch import nn

from ganzoo.config import TrainConfig
from ganzoo.nn.spectral import spectral_norm_layers


def compile_networks(networks: Mapping[str, nn.Module], train: TrainConfig) -> list[str]:
    """Compile every network in ``networks`` in place when ``train.compile`` is on; returns the compiled names."""
    if not train.compile:
        return []
    options = {"backend": train.compile_backend}
    if train.compile_backend == "inductor":
        options["mode"] = train.compile_mode
    for net in networks.values():
        keep_power_iterations_eager(net)
        net.compile(**options)
    return list(networks)


def keep_power_iterations_eager(net: nn.Module) -> int:
    """Make every spectral norm inside ``net`` run outside compiled graphs (see the module docstring).

    Bound to each parametrization object, so a deep copy of the network (an EMA) keeps its own buffers.
    Returns the number of spectral norms changed.
    """
    count = 0
    for _, norm in spectral_norm_layers(net):
        eager_forward = torch.compiler.disable(type(norm).forward)
        norm.forward = types.MethodType(eager_forward, norm)
        count += 1
    return count
