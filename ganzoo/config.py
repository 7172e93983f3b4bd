"""Run configuration: pydantic models are the single source of truth for defaults, ranges and help.

A run is described by three sections: ``model`` (the plugin's own :class:`ModelConfig` subclass),
``train`` (:class:`TrainConfig`) and ``data`` (:class:`DataConfig`).  They are resolved, in increasing
priority, from: the generic defaults, the model's ``train_defaults``/``data_defaults``, a TOML file, and
``--set section.key=value`` overrides.  Invalid values are rejected before any work starts with a
:class:`ConfigError` naming the field, the value, where it came from and what is allowed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

import tomli_w
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ganzoo.fileio import atomic_write_text
from ganzoo.specs import STEP_SETTINGS, ModelSpec

SECTIONS = ("model", "train", "data", "sample")
MAX_SEED = 2**63 - 1
"""The largest seed torch's generators take (a larger one overflows deep inside torch)."""
OptimizerName = Literal["adam", "adamw", "sgd", "rmsprop"]
ScheduleName = Literal["constant", "linear", "cosine", "step"]


class ConfigError(ValueError):
    """A configuration value or file that cannot be used; the message names the culprit."""


class StrictModel(BaseModel):
    """Base for all config sections: unknown keys are errors (a typo must not be silently ignored), numbers are
    finite (``inf``/``nan`` are no learning rates) and ``true``/``false`` are no numbers."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, bool) and info.field_name in cls.model_fields:
            annotation = cls.model_fields[info.field_name].annotation
            accepted = set(getattr(annotation, "__args__", ())) | {annotation}
            if bool not in accepted and accepted & {int, float}:
                raise ValueError(f"expected a number, not {str(value).lower()}")
        return value


class ModelConfig(StrictModel):
    """Settings every model has; plugins subclass this with their architecture's hyper-parameters."""

    image_size: int = Field(32, ge=4, le=2048, description="height and width of generated images, in pixels")
    channels: int = Field(3, ge=1, le=4, description="image channels (1 grey, 3 RGB)")
    num_classes: int = Field(0, ge=0, description="number of classes for conditional models (0: unconditional)")
    latent_dim: int = Field(100, ge=1, description="size of the noise vector z")

    @model_validator(mode="after")
    def _core_limits(self) -> ModelConfig:
        """The core's bounds hold even where a plugin redeclares the field without them (image_size=4096 would
        ask for ~100 GB before the first step)."""
        for name, low, high in (("image_size", 4, 2048), ("channels", 1, 4)):
            value = getattr(self, name, None)
            if isinstance(value, int) and not low <= value <= high:
                raise ValueError(f"{name} = {value}: must be within {low}..{high} (ganzoo's limit)")
        return self


def split_names(value: Any) -> Any:
    """``"color,translation"`` -> ``["color", "translation"]`` (the reference's policy strings; lists pass through)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class NetworkOptimizer(StrictModel):
    """Optimizer and lr-schedule settings for one network (or every network of a role); unset values inherit the
    ``train`` section's (``lr``: ``lr_g`` for generators, ``lr_d`` for the others)."""

    optimizer: OptimizerName | None = Field(None, description="adam, adamw, sgd or rmsprop")
    lr: float | None = Field(None, gt=0, description="learning rate")
    betas: tuple[float, float] | None = Field(None, description="Adam/AdamW betas")
    momentum: float | None = Field(None, ge=0, description="SGD/RMSprop momentum")
    weight_decay: float | None = Field(None, ge=0, description="weight decay")
    lr_schedule: ScheduleName | None = Field(None, description="constant, linear, cosine or step")
    lr_decay_start: int | None = Field(None, ge=0, description="step from which linear/cosine decay starts")
    lr_step_size: int | None = Field(None, ge=1, description="steps between lr drops (step schedule)")
    lr_gamma: float | None = Field(None, gt=0, description="lr factor per drop (step schedule)")


class TrainConfig(StrictModel):
    """Optimisation, schedule and runtime settings shared by all models."""

    steps: int = Field(2000, ge=1, description="generator iterations to train for")
    batch_size: int = Field(64, ge=1, description="images per batch (per process in distributed runs)")
    loss: str = Field("non-saturating", description="adversarial loss name (see `ganzoo info --losses`)")
    gp_weight: float | None = Field(None, ge=0, description="gradient-penalty weight (None: the loss's default)")
    loss_options: dict[str, Any] = Field(
        default_factory=dict, description="settings for the loss's factory (plugin losses document their keys)"
    )
    diffaugment: list[str] = Field(
        default_factory=list, description="DiffAugment policy applied to real and fake images before D "
        "(noise-to-image models), e.g. color,translation,cutout; see `ganzoo list --kind augmentation`"
    )

    @field_validator("diffaugment", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return split_names(value)
    n_critic: int = Field(1, ge=1, description="discriminator steps per generator step")
    lr_g: float = Field(2e-4, gt=0, description="generator learning rate")
    lr_d: float = Field(2e-4, gt=0, description="discriminator learning rate")
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam beta1")
    beta2: float = Field(0.999, ge=0, lt=1, description="Adam beta2")
    optimizer: OptimizerName = Field("adam", description="optimizer of every trainable network (adam, adamw, sgd, rmsprop)")
    momentum: float = Field(0.0, ge=0, description="SGD/RMSprop momentum")
    weight_decay: float = Field(0.0, ge=0, description="weight decay (decoupled for adamw)")
    lr_schedule: ScheduleName = Field(
        "constant", description="lr schedule: constant, linear (to 0 at train.steps from lr_decay_start), cosine, step"
    )
    lr_decay_start: int | None = Field(
        None, ge=0, description="step from which linear/cosine decay starts (None: linear half-way, cosine at 0)"
    )
    lr_step_size: int = Field(1000, ge=1, description="step schedule: steps between lr drops")
    lr_gamma: float = Field(0.1, gt=0, description="step schedule: lr factor per drop")
    optim: dict[str, NetworkOptimizer] = Field(
        default_factory=dict,
        description="per-network (or per-role) optimizer/schedule overrides: [train.optim.<network or role>]",
    )
    reuse_fakes: bool = Field(
        True, description="default step: the G step reuses the D step's fakes when n_critic = 1 (false: fresh noise)"
    )
    ema_decay: float | None = Field(None, gt=0, lt=1, description="EMA decay of generator weights (None: no EMA)")
    ema_start: int = Field(0, ge=0, description="step from which the EMA is updated (copied before)")
    seed: int = Field(0, ge=0, le=MAX_SEED, description="random seed (CPU runs are reproducible)")
    device: Literal["auto", "cpu", "cuda", "mps"] = Field("auto", description="where to train")
    precision: Literal["fp32", "bf16", "fp16"] = Field("fp32", description="autocast precision")
    channels_last: bool = Field(False, description="use channels-last memory format")
    tf32: bool = Field(True, description="on CUDA, let fp32 matmuls and convolutions use TF32 tensor cores")
    compile: bool = Field(
        False, description="torch.compile every trainable network's forward (off: on the 2-core reference CPU it "
        "was slower than eager, see docs/benchmarking.md)"
    )
    compile_mode: Literal["default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs"] = Field(
        "default", description="torch.compile mode when train.compile is on"
    )
    compile_backend: str = Field("inductor", description="torch.compile backend when train.compile is on (e.g. eager)")
    log_every: int = Field(10, ge=1, description="steps between metrics.jsonl rows")
    sample_every: int = Field(200, ge=1, description="steps between sample grids")
    checkpoint_every: int = Field(500, ge=1, description="steps between checkpoints")
    keep_checkpoints: int = Field(3, ge=1, description="how many recent checkpoints to keep")
    progress: bool = Field(True, description="show a progress bar")
    tensorboard: bool = Field(True, description="also log to RUN_DIR/tensorboard when tensorboard is installed")
    sample_count: int = Field(64, ge=1, le=1024, description="images in each progress sample grid")


class DataConfig(StrictModel):
    """Where training images come from; resolution and channels follow the model."""

    dataset: str = Field("digits", description="dataset name (digits, shapes, mnist, cifar10, ...) or a folder path")
    root: str | None = Field(None, description="folder holding downloaded datasets (torchvision ones)")
    split: str = Field("train", description="dataset split")
    num_workers: int = Field(0, ge=0, description="data-loading worker processes")
    skip_bad_files: bool = Field(False, description="skip (and count) images that cannot be decoded")
    download: bool = Field(True, description="allow torchvision datasets to download when online")
    format: Literal["auto", "folder", "aligned", "unpaired"] = Field(
        "auto", description="layout of a folder dataset: class sub-folders, pix2pix A|B images, or trainA/trainB"
    )
    direction: Literal["AtoB", "BtoA"] = Field("AtoB", description="which half of an aligned A|B image is the input")
    preload_max_images: int = Field(
        20000, ge=0, description="decode folder datasets up to this size into memory once (faster epochs)"
    )
    augment: list[str] = Field(
        default_factory=list, description="seeded augmentations of training batches, e.g. jitter,flip (pix2pix and "
        "cyclegan: the papers' resize-and-crop jitter and mirror); see `ganzoo list --kind augmentation`"
    )

    @field_validator("augment", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return split_names(value)


class SampleConfig(StrictModel):
    """Sampling settings of a model (``ModelSpec.sample_config`` subclasses or replaces this; empty by default)."""


class RunConfig(StrictModel):
    """A fully resolved run: which model, and its config sections."""

    model_name: str
    model: SerializeAsAny[ModelConfig]
    train: TrainConfig = Field(default_factory=TrainConfig)
    data: DataConfig = Field(default_factory=DataConfig)
    sample: SerializeAsAny[BaseModel] = Field(default_factory=SampleConfig)

    def to_toml(self) -> str:
        """The config as TOML (``None`` values are left out; they are the defaults)."""
        return tomli_w.dumps(self.model_dump(mode="json", exclude_none=True))

    def save(self, path: str | Path) -> None:
        """Write the config atomically as TOML."""
        atomic_write_text(path, self.to_toml())


def _unknown_setting(key: str, known: Sequence[str], origin: str) -> str:
    """Message for a misspelt or unknown key: the closest known names, then every allowed one."""
    import difflib

    name = key.rsplit(".", 1)[-1]
    close = difflib.get_close_matches(name, known, n=2)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"{key}: unknown setting (from {origin}){hint} (allowed: {', '.join(known)})"


def _format_validation_error(
    exc: ValidationError, section: str, sources: Mapping[str, str], known: Sequence[str] = ()
) -> list[str]:
    lines = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        key = f"{section}.{field}" if field else section
        value = err.get("input")
        origin = sources.get(key, "defaults")
        allowed = ""
        ctx = err.get("ctx") or {}
        if "expected" in ctx and str(ctx["expected"]) not in err["msg"]:
            allowed = f" (allowed: {ctx['expected']})"
        if not field and err["type"] == "value_error":  # a whole-section check naming its own field first
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{section}.{message} (from {sources.get(f'{section}.{message.split()[0]}', 'defaults')})")
        elif err["type"] == "extra_forbidden":
            lines.append(_unknown_setting(key, known, origin))
        else:
            lines.append(f"{key} = {value!r}: {err['msg'].removeprefix('Value error, ')}{allowed} (from {origin})")
    return lines


def parse_override(text: str) -> tuple[str, str, Any]:
    """Split ``section.key=value``; the value is read as a TOML value when it parses, else as a string."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value")
    dotted, raw = text.split("=", 1)
    parts = dotted.strip().split(".")
    if len(parts) != 2 or parts[0] not in SECTIONS or not parts[1]:
        raise ConfigError(f"--set {text!r}: the key must be one of {', '.join(s + '.<name>' for s in SECTIONS)}")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return parts[0], parts[1], value


def load_toml(path: str | Path) -> dict[str, Any]:
    """Read a run TOML file; errors name the file and line."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (TOML files are): {exc}") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(SECTIONS) - {"model_name"})
    if unknown:
        raise ConfigError(f"config file {path}: unknown section(s) {', '.join(unknown)}; allowed: {', '.join(SECTIONS)}")
    return data


def resolve_config(
    spec: ModelSpec,
    file_data: Mapping[str, Any] | None = None,
    overrides: Sequence[str] = (),
    values: Mapping[str, Mapping[str, Any]] | None = None,
    file_name: str = "config file",
) -> RunConfig:
    """Build the :class:`RunConfig` for ``spec`` from defaults, a TOML mapping, ``--set`` strings and values.

    ``values`` holds already-typed settings from dedicated command-line flags (``{"train": {"steps": 10}}``);
    they take priority over the file, and ``--set`` overrides take priority over everything.
    """
    layers: dict[str, dict[str, Any]] = {
        "model": {},
        "train": dict(spec.train_defaults),
        "data": dict(spec.data_defaults),
        "sample": {},
    }
    sources: dict[str, str] = {}

    def apply(section: str, key: str, value: Any, origin: str) -> None:
        layers[section][key] = value
        sources[f"{section}.{key}"] = origin

    for section in SECTIONS:
        table = (file_data or {}).get(section, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"{file_name}: {section} must be a [{section}] table of settings, got {table!r}")
        for key, value in table.items():
            apply(section, key, value, file_name)
        for key, value in dict((values or {}).get(section, {})).items():
            if value is not None:
                apply(section, key, value, "command line")
    for text in overrides:
        section, key, value = parse_override(text)
        apply(section, key, value, f"--set {text}")

    checked: dict[str, Any] = {}
    problems: list[str] = []
    for section, cls in section_classes(spec).items():
        if cls.model_config.get("extra") != "forbid":  # a plugin's plain BaseModel must not ignore typos either
            problems.extend(_unknown_setting(f"{section}.{key}", list(cls.model_fields), sources.get(f"{section}.{key}", "defaults"))
                            for key in layers[section] if key not in cls.model_fields)
        try:
            checked[section] = cls(**layers[section])
        except ValidationError as exc:
            problems.extend(_format_validation_error(exc, section, sources, list(cls.model_fields)))
    if "train" in checked:
        problems.extend(unhonoured_step_settings(spec, checked["train"], sources))
    if problems:
        raise ConfigError(f"invalid configuration for model {spec.name!r}:\n  " + "\n  ".join(problems))
    return RunConfig(model_name=spec.name, **checked)


def with_sample_settings(spec: ModelSpec, config: RunConfig, overrides: Sequence[str]) -> RunConfig:
    """``config`` with ``--set sample.KEY=VALUE`` overrides applied to its ``[sample]`` section.

    A trained run's model, train and data settings are fixed by its checkpoint, so only ``sample.*`` keys are
    accepted; a model that declares no ``ModelSpec.sample_config`` has nothing to set.
    """
    if not overrides:
        return config
    cls = spec.sample_config or SampleConfig
    values = config.sample.model_dump()
    sources: dict[str, str] = {}
    for text in overrides:
        section, key, value = parse_override(text)
        if section != "sample":
            raise ConfigError(f"--set {text!r}: a trained run keeps its {section} settings; only sample.KEY settings "
                              "(the model's sampler) can change here")
        if not cls.model_fields:
            raise ConfigError(f"--set {text!r}: model {spec.name!r} declares no sampling settings")
        values[key] = value
        sources[f"sample.{key}"] = f"--set {text}"
    problems = [_unknown_setting(key, list(cls.model_fields), origin) for key, origin in sources.items()
                if key.split(".", 1)[1] not in cls.model_fields]
    if not problems:
        try:
            return config.model_copy(update={"sample": cls(**values)})
        except ValidationError as exc:
            problems = _format_validation_error(exc, "sample", sources, list(cls.model_fields))
    raise ConfigError(f"invalid sampling settings for model {spec.name!r}:\n  " + "\n  ".join(problems))


def section_classes(spec: ModelSpec) -> dict[str, type[BaseModel]]:
    """The pydantic class of each config section for ``spec``."""
    return {"model": spec.config_class, "train": TrainConfig, "data": DataConfig,
            "sample": spec.sample_config or SampleConfig}


def unhonoured_step_settings(spec: ModelSpec, train: TrainConfig, sources: Mapping[str, str]) -> list[str]:
    """Problems for step-only settings changed from the model's defaults that its own train step ignores."""
    honoured = spec.honoured_step_settings
    if honoured is None:
        return []
    baseline = TrainConfig(**spec.train_defaults)
    problems = []
    for name in STEP_SETTINGS:
        value = getattr(train, name)
        if name not in honoured and value != getattr(baseline, name):
            listed = ", ".join(honoured) or "none of them"
            problems.append(
                f"train.{name} = {value!r}: model {spec.name!r} trains with its own step, which does not use this "
                f"setting (from {sources.get(f'train.{name}', 'defaults')}; step settings it honours: {listed})"
            )
    return problems


def load_run_config(path: str | Path, spec: ModelSpec) -> RunConfig:
    """Load a saved ``config.toml`` of a run (as written by :meth:`RunConfig.save`)."""
    data = load_toml(path)
    return resolve_config(spec, data, file_name=str(path))


def schema(spec: ModelSpec) -> dict[str, Any]:
    """JSON schema of the config sections for ``spec`` (for ``ganzoo info``)."""
    return {section: cls.model_json_schema() for section, cls in section_classes(spec).items()}
