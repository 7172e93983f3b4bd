"""ganzoo entry point for DCGAN: metadata and hooks; the networks are ganzoo.nn.conv's, imported lazily."""

from __future__ import annotations

from typing import Any, Callable

from pydantic import Field, field_validator

from ganzoo import ModelConfig, ModelSpec, hookimpl

GANZOO_API = ">=2,<3"


class DCGANConfig(ModelConfig):
    """DCGAN hyper-parameters (defaults: the paper's 64 px model)."""

    image_size: int = Field(64, description="32 or 64 (or any power of two from 16)")
    latent_dim: int = Field(100, ge=1, description="size of z")
    ngf: int = Field(64, ge=1, description="generator width (channels of the last hidden layer)")
    ndf: int = Field(64, ge=1, description="discriminator width (channels of the first layer)")

    @field_validator("image_size")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value < 16 or value & (value - 1):
            raise ValueError("must be a power of two >= 16 (e.g. 32 or 64)")
        return value


@hookimpl
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(
            name="dcgan",
            task="unconditional",
            config_class=DCGANConfig,
            paper="Radford, Metz, Chintala. Unsupervised Representation Learning with Deep Convolutional "
            "Generative Adversarial Networks. ICLR 2016. arXiv:1511.06434",
            description="All-convolutional GAN: strided (transposed) convolutions, BatchNorm, ReLU/LeakyReLU.",
            train_defaults={"loss": "non-saturating", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999,
                            "n_critic": 1, "batch_size": 64},
            tiny_config={"image_size": 16, "latent_dim": 8, "ngf": 4, "ndf": 4},
            tags=("unconditional", "convolutional"),
        )
    )


@hookimpl
def ganzoo_build_generator(config: DCGANConfig) -> Any:
    from ganzoo.nn.conv import ConvGenerator

    return ConvGenerator(config.latent_dim, config.ngf, config.channels, config.image_size)


@hookimpl
def ganzoo_build_discriminator(config: DCGANConfig) -> Any:
    from ganzoo.nn.conv import ConvDiscriminator

    return ConvDiscriminator(config.ndf, config.channels, config.image_size, norm="batch")
