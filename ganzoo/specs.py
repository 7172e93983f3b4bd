"""Plain descriptions of what plugins contribute: models and losses.

These objects are created inside ``ganzoo_register_models`` / ``ganzoo_register_losses`` and must stay
cheap to build: nothing here imports torch, so listing models never pays for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel

TaskKind = Literal["unconditional", "class-conditional", "paired-image-to-image", "unpaired-image-to-image"]
TASK_KINDS: tuple[str, ...] = TaskKind.__args__  # type: ignore[attr-defined]

_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]*$")


class SpecError(ValueError):
    """A plugin described a model or loss in a way the core cannot accept."""


@dataclass
class ModelSpec:
    """Everything the core needs to know about one model before building it.

    ``config_class`` is a pydantic model (a subclass of :class:`ganzoo.config.ModelConfig`) whose defaults
    are the paper's settings for the architecture.  ``train_defaults`` and ``data_defaults`` override the
    generic :class:`ganzoo.config.TrainConfig` / :class:`ganzoo.config.DataConfig` defaults for this model
    (for example wgan-gp's learning rate and critic steps).  ``tiny_config`` holds model settings for a
    network small enough for the conformance kit to build and train in a fraction of a second.  ``plugin`` and ``distribution`` are filled in
    by the core when the spec is registered.
    """

    name: str
    task: TaskKind
    config_class: type[BaseModel]
    paper: str
    description: str
    license: str = "MIT"
    train_defaults: dict[str, Any] = field(default_factory=dict)
    data_defaults: dict[str, Any] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    tiny_config: dict[str, Any] = field(default_factory=dict)
    plugin: str = ""
    distribution: str = ""
    version: str = ""

    def __post_init__(self) -> None:
        if not _NAME_PATTERN.match(self.name):
            raise SpecError(
                f"model name {self.name!r} is invalid: use lower-case letters, digits, '_', '-' or '.', "
                "starting with a letter"
            )
        if self.task not in TASK_KINDS:
            raise SpecError(f"model {self.name!r}: task {self.task!r} is not one of {', '.join(TASK_KINDS)}")
        if not (isinstance(self.config_class, type) and issubclass(self.config_class, BaseModel)):
            raise SpecError(f"model {self.name!r}: config_class must be a pydantic BaseModel subclass")

    @property
    def conditional(self) -> bool:
        """True when the networks take class labels."""
        return self.task == "class-conditional"

    @property
    def image_to_image(self) -> bool:
        """True when the generator translates input images rather than noise."""
        return self.task.endswith("image-to-image")

    def metadata(self) -> dict[str, Any]:
        """JSON-ready metadata (used by ``ganzoo info`` and the leaderboard)."""
        return {
            "name": self.name,
            "task": self.task,
            "paper": self.paper,
            "license": self.license,
            "description": self.description,
            "plugin": self.distribution or self.plugin,
            "version": self.version,
            "tags": list(self.tags),
        }


@dataclass
class LossSpec:
    """A named adversarial loss that any model may use (``--loss NAME``).

    ``factory`` returns a :class:`ganzoo.losses.GANLoss`; it is called lazily so registering a loss never
    imports torch.  ``gradient_penalty`` is the default penalty weight that comes with the loss (10 for
    ``wgan-gp``), which ``train.gp_weight`` overrides.
    """

    name: str
    factory: Callable[[], Any]
    description: str
    gradient_penalty: float = 0.0
    plugin: str = ""

    def __post_init__(self) -> None:
        if not _NAME_PATTERN.match(self.name):
            raise SpecError(f"loss name {self.name!r} is invalid")
