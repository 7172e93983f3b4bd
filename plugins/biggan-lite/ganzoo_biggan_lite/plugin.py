"""ganzoo entry point for BigGAN-lite (Brock et al. 2018) at 32 px: config, metadata and hooks (plugin API 2).

The networks are ``ganzoo.nn.snresnet``'s SN ResNets with BigGAN's channel plans.  Defaults: the training
settings of the authors' CIFAR script (``launch_cifar_ema.sh``: batch 50, Adam 2e-4 for G and D with betas
(0, 0.999), 4 D steps per G step, N(0, 0.02) init, EMA of G with decay 0.9999 from step 1000, attention off)
and the paper's architecture features, each a setting: shared class embedding, hierarchical latent and
orthogonal regularisation (beta 1e-4; the script sets ``G_ortho 0.0`` and leaves ``--G_shared``/``--hier``
off).  The core's default step (hinge loss) adds the regulariser through ``ganzoo_extra_loss``; the core's
default sampler draws from the EMA generator and truncates z by resampling (``ganzoo sample --truncation``).
torch is imported inside the hooks only.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Mapping

from pydantic import Field, field_validator, model_validator

from ganzoo import ModelConfig, ModelSpec, hookimpl

GANZOO_API = ">=2,<3"


class BigGANLiteConfig(ModelConfig):
    """BigGAN's architecture at 32 px; which default follows the paper and which the CIFAR script is said per field."""

    image_size: int = Field(32, description="32 (any power of two >= 8 builds)")
    num_classes: int = Field(10, ge=1, description="classes of the shared embedding and the projection")
    latent_dim: int = Field(128, ge=1, description="size of z (script: dim_z 128)")
    ngf: int = Field(64, ge=1, description="G_ch: 4*ngf channels in every generator block (script: 64)")
    ndf: int = Field(64, ge=1, description="D_ch: 4*ndf channels in every discriminator block (script: 64)")
    shared_embedding: bool = Field(True, description="one class embedding shared by all conditional BNs (paper; "
                                   "the script: off, per-class BN gains/biases instead)")
    shared_dim: int = Field(128, ge=1, description="size of the shared embedding (BigGAN's shared_dim = dim_z)")
    hierarchical: bool = Field(True, description="split z into one chunk per block plus the input (paper; the "
                               "script: off); needs shared_embedding")
    orthogonal_reg: float = Field(1e-4, ge=0, description="beta of the off-diagonal orthogonal regularisation of G, "
                                  "embeddings skipped (paper 1e-4; the script: 0 = off)")
    attention: int | None = Field(None, ge=4, description="feature resolution of self-attention in G and D "
                                  "(None: off, as the script; the paper uses 64 at 128 px)")
    init: Literal["normal", "ortho", "xavier"] = Field("normal", description="weight init (script: N(0, 0.02); "
                                                       "the code's default: ortho)")

    @field_validator("image_size")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value < 8 or value & (value - 1):
            raise ValueError("must be a power of two >= 8 (BigGAN-lite is the 32 px model)")
        return value

    @model_validator(mode="after")
    def _hierarchy_needs_shared(self) -> "BigGANLiteConfig":
        if self.hierarchical and not self.shared_embedding:
            raise ValueError("model.hierarchical = true needs model.shared_embedding = true (the z chunks join the "
                             "shared embedding); set model.hierarchical=false")
        return self


@hookimpl
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    register(ModelSpec(
        name="biggan-lite",
        task="class-conditional",
        config_class=BigGANLiteConfig,
        paper="Brock, Donahue, Simonyan. Large Scale GAN Training for High Fidelity Natural Image Synthesis. "
        "ICLR 2019. arXiv:1809.11096",
        description="BigGAN at 32 px: SN ResNet G with shared class embedding, hierarchical z and conditional BN; "
        "SN ResNet D with projection; hinge loss, orthogonal regularisation, EMA generator, truncation trick.",
        license="MIT",
        train_defaults={"loss": "hinge", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.0, "beta2": 0.999, "n_critic": 4,
                        "batch_size": 50, "ema_decay": 0.9999, "ema_start": 1000},
        tiny_config={"image_size": 8, "latent_dim": 8, "ngf": 4, "ndf": 4, "shared_dim": 4},
        tags=("class-conditional", "spectral-norm", "projection", "hinge", "ema", "truncation", "orthogonal-reg"),
    ))


def _config_error(exc: ValueError) -> Exception:
    from ganzoo.config import ConfigError

    return ConfigError(f"model 'biggan-lite': {exc}")


@hookimpl
def ganzoo_build_generator(config: BigGANLiteConfig) -> Any:
    from ganzoo.nn.init import gan_init_
    from ganzoo.nn.snresnet import SNResNetGenerator

    try:
        generator = SNResNetGenerator(
            config.latent_dim, config.channels, config.image_size, config.ngf, config.num_classes,
            conditioning="shared" if config.shared_embedding else "class", shared_dim=config.shared_dim,
            hierarchical=config.hierarchical, attention_resolution=config.attention)
    except ValueError as exc:
        raise _config_error(exc) from None
    return gan_init_(generator, config.init)


@hookimpl
def ganzoo_build_discriminator(config: BigGANLiteConfig) -> Any:
    from ganzoo.nn.init import gan_init_
    from ganzoo.nn.snresnet import SNResNetDiscriminator

    try:
        discriminator = SNResNetDiscriminator(config.channels, config.image_size, config.ndf, config.num_classes,
                                              attention_resolution=config.attention)
    except ValueError as exc:
        raise _config_error(exc) from None
    return gan_init_(discriminator, config.init)


@hookimpl
def ganzoo_extra_loss(state: Any, role: str) -> Mapping[str, Any]:
    """Orthogonal regularisation of G's weights in the generator step (``model.orthogonal_reg``; 0: none)."""
    beta = state.model_config.orthogonal_reg
    if role != "generator" or beta <= 0:
        return {}
    from ganzoo.nn.orthogonal import orthogonal_penalty

    return {"orthogonal": orthogonal_penalty(state.unwrapped("generator"), beta)}
