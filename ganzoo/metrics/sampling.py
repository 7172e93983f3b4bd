"""Models as torch-fidelity inputs: samples are produced in memory, batch by batch (no image files).

torch-fidelity asks a :class:`~torch_fidelity.GenerativeModelBase` for batches by calling it with noise.
ganzoo's wrappers ignore that noise (models draw their own through ``ganzoo_sample`` from a CPU generator
seeded by the protocol, so the latents are the same on every device) and only use its batch size, so plugins with their own samplers (truncation,
pyramids, iterative samplers, translation) are evaluated exactly as they sample.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.data import Dataset
from torch_fidelity.generative_model_base import GenerativeModelBase

from ganzoo.metrics.conditional import balanced_labels
from ganzoo.metrics.protocol import Protocol
from ganzoo.metrics.reference import resize_images, source_key, target_key, to_reference
from ganzoo.plugins import PluginHost, get_host
from ganzoo.state import GANState


def sampling_generator(seed: int) -> torch.Generator:
    """The seeded generator samples are drawn with under a protocol: always on the CPU."""
    return torch.Generator(device="cpu").manual_seed(seed)


class _ModelInput(GenerativeModelBase):
    """Shared plumbing: a seeded torch generator and the plugin host."""

    def __init__(self, state: GANState, protocol: Protocol, host: PluginHost | None = None) -> None:
        super().__init__()
        self.state, self.protocol = state, protocol
        self.host = host or get_host()
        # a CPU generator on every device: CUDA's generator gives other numbers for the same seed, and one
        # protocol hash must mean one set of latents (noise is drawn here and moved to the model's device)
        self.generator = sampling_generator(protocol.seed)

    @property
    def z_size(self) -> int:
        return 1

    @property
    def z_type(self) -> str:
        return "normal"

    @property
    def num_classes(self) -> int:
        return 0  # labels are chosen here (uniformly spread), not drawn by torch-fidelity


class SampledModel(_ModelInput):
    """A noise-to-image model; class-conditional models get labels ``0, 1, ..., K-1, 0, 1, ...`` in turn
    (:func:`~ganzoo.metrics.conditional.balanced_labels`), latents truncated at ``protocol.truncation``;
    ``last_labels`` holds the labels of the latest call.
    """

    def __init__(self, state: GANState, protocol: Protocol, host: PluginHost | None = None) -> None:
        super().__init__(state, protocol, host)
        self.produced = 0
        self.last_labels: torch.Tensor | None = None

    def sample(self, num: int) -> torch.Tensor:
        """The next ``num`` samples in [-1, 1] at the model's own resolution."""
        labels = None
        if self.state.spec.conditional:
            labels = balanced_labels(self.produced, num, int(self.state.model_config.num_classes), self.state.device)
        self.last_labels = labels
        self.produced += num
        self.state.eval()
        # truncation only when set: an API-2 sampler without the argument then still runs untruncated protocols
        extra = {} if self.protocol.truncation is None else {"truncation": self.protocol.truncation}
        return self.host.call("ganzoo_sample", self.state.spec, state=self.state, num=num, labels=labels,
                              generator=self.generator, **extra)

    def forward(self, noise: torch.Tensor, *unused: Any) -> torch.Tensor:
        return to_reference(self.sample(noise.size(0)).detach(), self.protocol)


class TranslatedInputs(_ModelInput):
    """An image-to-image model applied to held-out inputs in order; keeps outputs for paired metrics."""

    def __init__(self, state: GANState, protocol: Protocol, items: Dataset, host: PluginHost | None = None) -> None:
        super().__init__(state, protocol, host)
        self.items = items
        self.cursor = 0
        self.keep_pairs = protocol.task == "paired-image-to-image"
        self.outputs: list[torch.Tensor] = []
        self.targets: list[torch.Tensor] = []

    def __len__(self) -> int:
        return min(self.protocol.num_samples, len(self.items))  # type: ignore[arg-type]

    def translate(self, num: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Translate the next ``num`` held-out inputs; returns ``(inputs, outputs)`` in [-1, 1].

        Inputs are resized to the model's own resolution and channels (a model trained at another size
        than the protocol's must see inputs like those it was trained on); outputs come back at the
        protocol's resolution and channels, where they are compared with the targets.
        """
        rows = [self.items[i] for i in range(self.cursor, self.cursor + num)]
        self.cursor += num
        inputs = torch.stack([row[source_key(self.protocol)] for row in rows]).to(self.state.device)
        model = self.state.model_config
        self.state.eval()
        # the direction only for unpaired models (a paired sampler has no such argument; API 2 refuses it)
        unpaired = self.state.spec.task == "unpaired-image-to-image"
        extra = {"direction": self.protocol.direction} if unpaired else {}
        outputs = self.host.call("ganzoo_sample", self.state.spec, state=self.state, num=num,
                                 inputs=resize_images(inputs, model.image_size, model.channels),
                                 generator=self.generator, **extra)
        outputs = resize_images(outputs, self.protocol.image_size, self.protocol.channels)
        if self.keep_pairs:
            self.outputs.append(outputs.detach().float().cpu())
            self.targets.append(torch.stack([row[target_key(self.protocol)] for row in rows]).float())
        return inputs, outputs

    def forward(self, noise: torch.Tensor, *unused: Any) -> torch.Tensor:
        return to_reference(self.translate(noise.size(0))[1].detach(), self.protocol)

    def paired_metrics(self) -> dict[str, float]:
        """L1 / PSNR / SSIM of the outputs so far against their ground truth (paired data only)."""
        if not self.outputs:
            return {}
        from ganzoo.metrics.paired import paired_metrics

        values = paired_metrics(torch.cat(self.outputs), torch.cat(self.targets))
        return {key: float(value) for key, value in values.items()}
