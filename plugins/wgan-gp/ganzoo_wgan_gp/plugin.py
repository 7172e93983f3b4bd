"""ganzoo entry point for WGAN-GP: the model, and the ``wgan-gp`` loss that any BatchNorm-free critic can use."""

from __future__ import annotations

from typing import Any, Callable, Literal

from pydantic import Field

from ganzoo import LossSpec, ModelConfig, ModelSpec, hookimpl

GANZOO_API = ">=2,<3"
GRADIENT_PENALTY_WEIGHT = 10.0  # lambda in Gulrajani et al., Algorithm 1


class WGANGPConfig(ModelConfig):
    """WGAN-GP hyper-parameters: a DCGAN-shaped generator and a critic without BatchNorm."""

    image_size: int = Field(32, description="a power of two >= 16 (the paper's CIFAR-10 model is 32 px)")
    latent_dim: int = Field(128, ge=1, description="size of z")
    ngf: int = Field(64, ge=1, description="generator width")
    ndf: int = Field(64, ge=1, description="critic width")
    critic_norm: Literal["none", "layer"] = Field("none", description="critic normalisation (never BatchNorm)")


def _wasserstein() -> Any:
    from ganzoo.losses import WassersteinLoss

    return WassersteinLoss()


@hookimpl
def ganzoo_register_losses(register: Callable[[LossSpec], None]) -> None:
    register(
        LossSpec(
            "wgan-gp",
            _wasserstein,
            "Wasserstein critic loss with a gradient penalty of weight 10 on interpolates (Gulrajani 2017)",
            gradient_penalty=GRADIENT_PENALTY_WEIGHT,
        )
    )


@hookimpl
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(
            name="wgan-gp",
            task="unconditional",
            config_class=WGANGPConfig,
            paper="Gulrajani, Ahmed, Arjovsky, Dumoulin, Courville. Improved Training of Wasserstein GANs. "
            "NeurIPS 2017. arXiv:1704.00028",
            description="Wasserstein GAN with a gradient penalty: BatchNorm-free critic, 5 critic steps per G step.",
            train_defaults={"loss": "wgan-gp", "n_critic": 5, "lr_g": 1e-4, "lr_d": 1e-4, "beta1": 0.0,
                            "beta2": 0.9, "batch_size": 64},
            tiny_config={"image_size": 16, "latent_dim": 8, "ngf": 4, "ndf": 4},
            tags=("unconditional", "wasserstein", "gradient-penalty"),
        )
    )


@hookimpl
def ganzoo_build_generator(config: WGANGPConfig) -> Any:
    from ganzoo.nn.conv import ConvGenerator

    return ConvGenerator(config.latent_dim, config.ngf, config.channels, config.image_size)


@hookimpl
def ganzoo_build_discriminator(config: WGANGPConfig) -> Any:
    from ganzoo.nn.conv import ConvDiscriminator

    return ConvDiscriminator(config.ndf, config.channels, config.image_size, norm=config.critic_norm)
