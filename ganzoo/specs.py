"""Plain descriptions of what plugins contribute: models, losses, datasets, augmentations and commands.

These objects are created inside the ``ganzoo_register_*`` hooks and must stay cheap to build: nothing here
imports torch, so listing models never pays for it.  Their factories run only when the thing is used, and
receive the arguments they name (see :func:`call_with_accepted`).
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from pydantic import BaseModel

TaskKind = Literal["unconditional", "class-conditional", "paired-image-to-image", "unpaired-image-to-image"]
TASK_KINDS: tuple[str, ...] = TaskKind.__args__  # type: ignore[attr-defined]

Role = Literal["generator", "discriminator", "auxiliary", "frozen"]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]
TRAINABLE_ROLES = ("generator", "discriminator", "auxiliary")

STEP_SETTINGS: tuple[str, ...] = ("loss", "gp_weight", "n_critic", "reuse_fakes", "diffaugment")
"""Train settings only a train step reads (everything else is applied by the trainer for every model);
``diffaugment`` acts through ``state.discriminate``, which a step may bypass."""

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
    network small enough for the conformance kit to build and train in a fraction of a second.

    API 2 additions: ``roles`` maps network names to a role (``generator``, ``discriminator``, ``auxiliary``:
    trainable helper, ``frozen``: fixed, no optimizer/EMA, always in eval mode); networks not named get the role of
    the hook that built them.  ``train_settings`` lists the step-only train settings (``STEP_SETTINGS``) that the
    plugin's *own* ``ganzoo_train_step`` honours (``None`` with the default step: all of them); changing another
    one is a config error.  ``sample_config`` is a pydantic model of sampling settings (the run config's
    ``[sample]`` section, overridable at sampling time).

    ``plugin``, ``distribution``, ``version`` and ``api`` (the plugin API version the plugin speaks) are filled
    in by the core when the spec is registered.
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
    roles: dict[str, str] = field(default_factory=dict)
    train_settings: tuple[str, ...] | None = None
    sample_config: type[BaseModel] | None = None
    plugin: str = ""
    distribution: str = ""
    version: str = ""
    api: int = 1
    honoured_step_settings: tuple[str, ...] | None = None

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
        bad_roles = {name: role for name, role in self.roles.items() if role not in ROLES}
        if bad_roles:
            raise SpecError(f"model {self.name!r}: unknown role(s) {bad_roles} (allowed: {', '.join(ROLES)})")
        unknown = sorted(set(self.train_settings or ()) - set(STEP_SETTINGS))
        if unknown:
            raise SpecError(f"model {self.name!r}: train_settings {unknown} are not step settings "
                            f"(allowed: {', '.join(STEP_SETTINGS)}; the trainer applies all others itself)")
        if self.sample_config is not None and not (
            isinstance(self.sample_config, type) and issubclass(self.sample_config, BaseModel)
        ):
            raise SpecError(f"model {self.name!r}: sample_config must be a pydantic BaseModel subclass")

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
            "api": self.api,
            "roles": dict(self.roles),
            "honoured_step_settings": list(self.honoured_step_settings) if self.honoured_step_settings is not None else None,
        }


@dataclass
class LossSpec:
    """A named adversarial loss that any model may use (``--loss NAME``).

    ``factory`` returns a :class:`ganzoo.losses.GANLoss`; it is called lazily so registering a loss never
    imports torch.  A factory that takes one argument receives the run's :class:`ganzoo.config.RunConfig`
    (read loss settings from ``config.train.loss_options``, e.g. a margin); one without arguments is called
    as is (API 1).  ``gradient_penalty`` is the default penalty weight that comes with the loss (10 for
    ``wgan-gp``), which ``train.gp_weight`` overrides.
    """

    name: str
    factory: Callable[..., Any]
    description: str
    gradient_penalty: float = 0.0
    plugin: str = ""

    def __post_init__(self) -> None:
        if not _NAME_PATTERN.match(self.name):
            raise SpecError(f"loss name {self.name!r} is invalid")

    def build(self, config: Any = None) -> Any:
        """The loss object for a run: ``factory(config=config)`` when the factory names ``config``, else ``factory()``."""
        return call_with_accepted(self.factory, f"loss {self.name!r}", config=config)


def call_with_accepted(factory: Callable[..., Any], what: str, **available: Any) -> Any:
    """Call ``factory`` with the keyword arguments among ``available`` that it names (as pluggy does for hooks).

    A factory may take fewer arguments than offered, in any order; a required argument that is not offered is
    an error naming ``what`` and the arguments on offer.
    """
    try:
        parameters = inspect.signature(factory).parameters
    except (TypeError, ValueError):  # some builtins have no signature: call them without arguments
        return factory()
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return factory(**available)
    unknown = [name for name, p in parameters.items()
               if name not in available and p.default is p.empty and p.kind not in (p.VAR_POSITIONAL,)]
    if unknown:
        raise SpecError(
            f"the factory of {what} asks for {', '.join(unknown)}; factories may name only {', '.join(available)}"
        )
    return factory(**{name: available[name] for name in parameters if name in available})


@dataclass
class DatasetSpec:
    """A named training/reference dataset (``--dataset NAME``).

    ``factory`` builds it and may name any of ``split`` (``train``, ``test``, ...), ``image_size``,
    ``channels``, ``task`` (the model's task kind), ``data`` (the :class:`ganzoo.config.DataConfig`) and
    ``model`` (the model config).  It returns a ``torch.utils.data.Dataset`` of dict items following the batch
    convention (``image`` [+ ``label``], ``input``/``image`` or ``a``/``b``; float ``(C, S, S)`` in
    ``[-1, 1]``) and raises :class:`ganzoo.data.DataError` for missing files, naming where to put them.
    ``tasks`` lists the task kinds it serves (empty: any; shown by ``ganzoo list``).
    """

    name: str
    factory: Callable[..., Any]
    description: str
    tasks: tuple[str, ...] = ()
    plugin: str = ""

    def __post_init__(self) -> None:
        if not _NAME_PATTERN.match(self.name):
            raise SpecError(f"dataset name {self.name!r} is invalid: use lower-case letters, digits, '_', '-' or '.'")


AugmentationStage = Literal["data", "discriminator"]


@dataclass
class AugmentationSpec:
    """A named, seeded augmentation.

    ``stage="data"``: applied to training batches as they leave the loader (``data.augment``); the object
    the factory returns is called as ``augment(images, generator)`` with a list of ``(N, C, H, W)`` tensors that
    must receive the *same* random transform (a paired batch's input and target) and returns the list
    transformed.  ``stage="discriminator"``: applied, differentiably, to every image a noise-to-image model's
    discriminator sees, real and fake (``train.diffaugment``, as DiffAugment); called as
    ``augment(images, generator)`` on one tensor.  Draw all randomness from ``generator`` (a
    ``torch.Generator`` on the images' device whose state is kept in checkpoints), so resumed runs continue
    exactly.  ``factory`` may name ``config`` (the run config), ``image_size``, ``channels`` and ``task``.
    """

    name: str
    factory: Callable[..., Any]
    description: str
    stage: AugmentationStage = "data"
    plugin: str = ""

    def __post_init__(self) -> None:
        if not _NAME_PATTERN.match(self.name):
            raise SpecError(f"augmentation name {self.name!r} is invalid")
        if self.stage not in ("data", "discriminator"):
            raise SpecError(f"augmentation {self.name!r}: stage {self.stage!r} is not 'data' or 'discriminator'")


@dataclass
class CommandSpec:
    """A ``ganzoo`` subcommand (``ganzoo NAME ...``).

    ``add_arguments(parser)`` adds its options to an ``argparse.ArgumentParser``; ``run(args)`` does the work
    and returns the exit status (``None``: 0).  Keep both cheap to import: ``ganzoo --help`` lists every
    command, so import torch inside ``run`` only.
    """

    name: str
    help: str
    add_arguments: Callable[[Any], None]
    run: Callable[[Any], int | None]
    plugin: str = ""

    def __post_init__(self) -> None:
        if not _NAME_PATTERN.match(self.name):
            raise SpecError(f"command name {self.name!r} is invalid")
