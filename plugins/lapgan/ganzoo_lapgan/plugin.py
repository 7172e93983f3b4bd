"""ganzoo entry point for LAPGAN (Denton et al. 2015): config, metadata and hooks (plugin API 2).

Two models: ``lapgan`` (unconditional) and ``lapgan-cc`` (CC-LAPGAN: every level also sees the class, a
one-hot vector turned into one extra input plane).  Networks: ``generator`` (every level's G, sampled coarse
to fine) and ``discriminator`` (every level's D); see :mod:`ganzoo_lapgan.networks`.  Latents: ``z`` (the base
level's noise) and one noise plane ``noise_<size>`` per finer level, all U(-1, 1).  The paper's SGD (lr 0.02,
momentum 0.5, decaying lr) comes from the core's optimizer and schedule settings (``train_defaults``); only the
rising momentum, which no core setting expresses, is applied by the train step.  torch is imported inside the
hooks only, so loading this module (``ganzoo list``) stays cheap.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from pydantic import Field, field_validator, model_validator

from ganzoo import ModelConfig, ModelSpec, hookimpl

GANZOO_API = ">=2,<3"
PAPER = ("Denton, Chintala, Szlam, Fergus. Deep Generative Image Models using a Laplacian Pyramid of Adversarial "
         "Networks. NeurIPS 2015. arXiv:1506.05751")
MIN_BASE_SIZE = 4


class LAPGANConfig(ModelConfig):
    """LAPGAN hyper-parameters (defaults: the paper's CIFAR-10 model, 3 levels 8 -> 16 -> 32)."""

    image_size: int = Field(32, description="finest image side in pixels, a power of two")
    levels: int = Field(3, ge=1, le=8, description="pyramid levels (the coarsest is image_size / 2**(levels-1) px)")
    latent_dim: int = Field(100, ge=1, description="size of the base level's uniform noise")
    base_hidden_g: int = Field(1200, ge=1, description="hidden units of the fully connected base generator")
    base_hidden_d: int = Field(600, ge=1, description="hidden units of the fully connected base discriminator")
    hidden_g: int = Field(64, ge=1, description="feature maps of each finer level's generator")
    hidden_d: int = Field(128, ge=1, description="feature maps of each finer level's discriminator")
    dropout: float = Field(0.5, ge=0, lt=1, description="dropout in every discriminator")
    momentum_increase: float = Field(0.0008, ge=0, description="added to the SGD momentum (train.momentum at the "
                                     "first epoch) every epoch")
    momentum_max: float = Field(0.8, ge=0, lt=1, description="the SGD momentum stops rising here")

    @field_validator("image_size")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value < MIN_BASE_SIZE or value & (value - 1):
            raise ValueError(f"must be a power of two >= {MIN_BASE_SIZE} (e.g. 32)")
        return value

    @model_validator(mode="after")
    def _coarsest_level_fits(self) -> LAPGANConfig:
        base = self.image_size >> (self.levels - 1)
        if base < MIN_BASE_SIZE:
            raise ValueError(
                f"levels = {self.levels} makes the coarsest level {self.image_size}/{2 ** (self.levels - 1)} px; "
                f"it must be at least {MIN_BASE_SIZE} px (use at most {self.max_levels(self.image_size)} levels)"
            )
        return self

    @staticmethod
    def max_levels(image_size: int) -> int:
        """The deepest pyramid whose coarsest level keeps ``MIN_BASE_SIZE`` pixels."""
        return (image_size // MIN_BASE_SIZE).bit_length()


class CCLAPGANConfig(LAPGANConfig):
    """CC-LAPGAN: LAPGAN with a class plane at every level (CIFAR-10: 10 classes)."""

    num_classes: int = Field(10, ge=1, description="number of classes")


LR_DECAY = 4e-5
_TRAIN_DEFAULTS = {
    "loss": "non-saturating", "n_critic": 1, "batch_size": 128,
    # the paper's SGD through the core's settings: lr 0.02, momentum 0.5 (rising, see the train step), and the lr
    # divided by 1 + 4e-5 after every update (the `step` schedule with a one-step period)
    "optimizer": "sgd", "lr_g": 0.02, "lr_d": 0.02, "momentum": 0.5,
    "lr_schedule": "step", "lr_step_size": 1, "lr_gamma": 1 / (1 + LR_DECAY),
}
_STEP_SETTINGS = ("loss",)  # its own step scores every level directly (no n_critic, penalty or DiffAugment)
_TINY = {"image_size": 16, "levels": 2, "latent_dim": 8, "base_hidden_g": 16, "base_hidden_d": 16,
         "hidden_g": 4, "hidden_d": 4}


@hookimpl
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    register(ModelSpec(
        name="lapgan",
        task="unconditional",
        config_class=LAPGANConfig,
        paper=PAPER,
        description="Laplacian pyramid of GANs: a fully connected GAN makes the coarsest image, then one "
        "conditional conv GAN per level adds the band-pass detail of the next scale.",
        train_defaults=dict(_TRAIN_DEFAULTS),
        tiny_config=dict(_TINY),
        tags=("unconditional", "multi-scale", "pyramid"),
        train_settings=_STEP_SETTINGS,
    ))
    register(ModelSpec(
        name="lapgan-cc",
        task="class-conditional",
        config_class=CCLAPGANConfig,
        paper=PAPER,
        description="Class-conditional LAPGAN (CC-LAPGAN): every level's G and D also get the class as a "
        "one-hot vector (base level) or a learned input plane (finer levels).",
        train_defaults=dict(_TRAIN_DEFAULTS),
        tiny_config={**_TINY, "num_classes": 3},
        tags=("class-conditional", "multi-scale", "pyramid"),
        train_settings=_STEP_SETTINGS,
    ))


def _classes(model: ModelSpec, config: LAPGANConfig) -> int:
    return config.num_classes if model.conditional else 0


@hookimpl
def ganzoo_build_generator(model: ModelSpec, config: LAPGANConfig) -> Any:
    from ganzoo_lapgan.networks import LaplacianGenerator

    return LaplacianGenerator(config.latent_dim, config.channels, config.image_size, config.levels,
                              config.base_hidden_g, config.hidden_g, _classes(model, config))


@hookimpl
def ganzoo_build_discriminator(model: ModelSpec, config: LAPGANConfig) -> Any:
    from ganzoo_lapgan.networks import LaplacianDiscriminator

    return LaplacianDiscriminator(config.channels, config.image_size, config.levels, config.base_hidden_d,
                                  config.hidden_d, _classes(model, config), config.dropout)


@hookimpl
def ganzoo_latents(config: LAPGANConfig) -> Any:
    """``z``: the base level's noise; ``noise_<size>``: the noise plane of each finer level (flat, size*size)."""
    from ganzoo.latents import Uniform
    from ganzoo_lapgan.networks import level_sizes, noise_name

    planes = {noise_name(size): Uniform(size * size, -1.0, 1.0) for size in level_sizes(config.image_size, config.levels)[1:]}
    return {"z": Uniform(config.latent_dim, -1.0, 1.0), **planes}


@hookimpl
def ganzoo_train_step(state: Any, batches: Any) -> Mapping[str, Any]:
    from ganzoo_lapgan.training import train_step

    return train_step(state, batches)


@hookimpl
def ganzoo_sample(model: ModelSpec, state: Any, num: int, labels: Any, truncation: float | None,
                  generator: Any, latents: Any) -> Any:
    """Coarse-to-fine samples; ``latents`` may fix ``z`` and any level's noise plane."""
    from ganzoo_lapgan.training import sample_levels

    if truncation is not None:
        raise ValueError(f"model {model.name!r} draws uniform noise at every level; it has no truncation trick "
                         "(leave out --truncation)")
    return sample_levels(state, num, labels, generator, latents)[-1]


@hookimpl
def ganzoo_preview(state: Any) -> Any:
    """One column per level (coarsest first), each shown at full size."""
    from ganzoo_lapgan.training import preview_columns

    return preview_columns(state, state.config.train.seed)
