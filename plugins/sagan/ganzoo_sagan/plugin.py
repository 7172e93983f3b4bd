"""ganzoo entry point for SAGAN (Zhang et al. 2018): config, metadata and network hooks (plugin API 2).

Two models: ``sagan`` (class-conditional: per-class conditional BatchNorm in G, a projection discriminator)
and ``sagan-uncond`` (plain BatchNorm, no projection).  Both are spectrally normalised ResNets with
self-attention (``ganzoo.nn.snresnet``) trained by the core's default step with the hinge loss and the
paper's two time-scale Adam settings; sampling is the core's default.  torch is imported inside the hooks so
that loading this module (``ganzoo list``) stays cheap.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Literal

from pydantic import Field, field_validator

from ganzoo import ModelConfig, ModelSpec, hookimpl

GANZOO_API = ">=2,<3"

PAPER = ("Zhang, Goodfellow, Metaxas, Odena. Self-Attention Generative Adversarial Networks. ICML 2019. "
         "arXiv:1805.08318")
TRAIN_DEFAULTS = {"loss": "hinge", "lr_g": 1e-4, "lr_d": 4e-4, "beta1": 0.0, "beta2": 0.9, "n_critic": 1,
                  "batch_size": 64}
TINY = {"image_size": 8, "latent_dim": 8, "ngf": 4, "ndf": 4}


class SAGANConfig(ModelConfig):
    """SAGAN's architecture (defaults: 32 px class-conditional CIFAR-10-sized networks)."""

    image_size: int = Field(32, description="32 or 64 (any power of two >= 8 builds)")
    num_classes: int = Field(10, ge=1, description="classes of the conditional BN and the projection")
    latent_dim: int = Field(128, ge=1, description="size of z")
    ngf: int = Field(64, ge=1, description="generator width: 4*ngf channels up to 32 px, 16*ngf halving per block at 64 px")
    ndf: int = Field(64, ge=1, description="discriminator width (same plans as BigGAN's)")
    attention: bool = Field(True, description="self-attention in G and D")
    attention_resolution: int = Field(32, ge=4, description="feature resolution of the attention layers (the paper: "
                                      "32); D uses its largest maps (after its first block) when it has none that large")
    init: Literal["xavier", "normal", "ortho"] = Field("xavier", description="weight init (Glorot uniform, the "
                                                       "SN-GAN/TensorFlow default)")

    @field_validator("image_size")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value < 8 or value & (value - 1):
            raise ValueError("must be a power of two >= 8 (the paper's sizes here: 32 or 64)")
        return value


class SAGANUncondConfig(SAGANConfig):
    """Unconditional SAGAN: the same networks with plain BatchNorm and no projection (``num_classes`` is unused)."""

    num_classes: int = Field(0, ge=0, le=0, description="unconditional: always 0")


@hookimpl
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    common = dict(paper=PAPER, train_defaults=TRAIN_DEFAULTS, tiny_config=TINY, license="MIT")
    register(ModelSpec(
        name="sagan",
        task="class-conditional",
        config_class=SAGANConfig,
        description="Spectrally normalised ResNet G (per-class conditional BatchNorm) and D (projection), both with "
        "self-attention at 32x32 features; hinge loss; TTUR Adam (D 4e-4, G 1e-4, betas (0, 0.9)).",
        tags=("class-conditional", "spectral-norm", "self-attention", "projection", "hinge", "ttur"),
        **common,
    ))
    register(ModelSpec(
        name="sagan-uncond",
        task="unconditional",
        config_class=SAGANUncondConfig,
        description="SAGAN without classes: plain BatchNorm in G, no projection in D; otherwise as sagan.",
        tags=("unconditional", "spectral-norm", "self-attention", "hinge", "ttur"),
        **common,
    ))


@contextmanager
def _config_errors(model: ModelSpec) -> Iterator[None]:
    """Architecture settings the networks refuse (too narrow for attention, ...) are config errors."""
    from ganzoo.config import ConfigError

    try:
        yield
    except ValueError as exc:
        raise ConfigError(f"model {model.name!r}: {exc}") from None


def _attention(config: SAGANConfig, largest: int) -> int | None:
    return min(config.attention_resolution, largest) if config.attention else None


@hookimpl
def ganzoo_build_generator(model: ModelSpec, config: SAGANConfig) -> Any:
    from ganzoo.nn.init import gan_init_
    from ganzoo.nn.snresnet import SNResNetGenerator

    num_classes = config.num_classes if model.conditional else 0
    with _config_errors(model):
        generator = SNResNetGenerator(config.latent_dim, config.channels, config.image_size, config.ngf, num_classes,
                                      conditioning="class",
                                      attention_resolution=_attention(config, config.image_size))
    return gan_init_(generator, config.init)


@hookimpl
def ganzoo_build_discriminator(model: ModelSpec, config: SAGANConfig) -> Any:
    from ganzoo.nn.init import gan_init_
    from ganzoo.nn.snresnet import SNResNetDiscriminator, discriminator_resolutions

    num_classes = config.num_classes if model.conditional else 0
    with _config_errors(model):
        largest = max(discriminator_resolutions(config.image_size))
        discriminator = SNResNetDiscriminator(config.channels, config.image_size, config.ndf, num_classes,
                                              attention_resolution=_attention(config, largest))
    return gan_init_(discriminator, config.init)
