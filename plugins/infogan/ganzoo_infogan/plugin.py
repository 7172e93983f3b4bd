"""ganzoo entry point for InfoGAN (Chen et al. 2016): config, metadata and hooks (plugin API 2).

Latents (declared through ``ganzoo_latents``): ``z`` the incompressible noise (62 values, Unif(-1, 1) as in the
authors' code), ``code`` the categorical code Cat(K = 10) and ``c1 .. cN`` the continuous codes Unif(-1, 1)
(N = 2).  Networks: ``generator`` G(z, code, c1, c2) and ``discriminator``, whose Q head shares D's trunk (one
network, one optimizer: lr_d updates trunk, D head and Q head).  Training is the core's default step plus the
information term through ``ganzoo_extra_loss`` (see :mod:`ganzoo_infogan.information`); the progress grid is
a latent traversal.  torch is imported inside the hooks only, so loading this module stays cheap.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from pydantic import Field, field_validator

from ganzoo import ModelConfig, ModelSpec, hookimpl
from ganzoo.config import SampleConfig
from ganzoo.specs import STEP_SETTINGS

GANZOO_API = ">=2,<3"


class InfoGANConfig(ModelConfig):
    """InfoGAN hyper-parameters (defaults: the paper's MNIST model)."""

    image_size: int = Field(28, description="image side in pixels, a multiple of 4 (MNIST: 28; digits protocol: 32)")
    channels: int = Field(1, ge=1, le=4, description="image channels")
    latent_dim: int = Field(62, ge=1, description="size of the incompressible noise z, Unif(-1, 1)")
    categories: int = Field(10, ge=2, description="classes K of the categorical code `code`")
    continuous_codes: int = Field(2, ge=0, le=9, description="continuous codes c1..cN, each Unif(-1, 1)")
    hidden: int = Field(1024, ge=1, description="units of G's first and D's last fully connected layer")
    q_hidden: int = Field(128, ge=1, description="units of the Q head's hidden layer")
    ngf: int = Field(64, ge=1, description="generator width (channels of its last hidden deconvolution)")
    ndf: int = Field(64, ge=1, description="discriminator width (channels of its first convolution)")
    lambda_cat: float = Field(1.0, ge=0, description="weight of the categorical code's information term")
    lambda_cont: float = Field(0.1, ge=0, description="weight of the continuous codes' Gaussian NLL term")

    @field_validator("image_size")
    @classmethod
    def _multiple_of_four(cls, value: int) -> int:
        if value < 8 or value % 4:
            raise ValueError("must be a multiple of 4 and at least 8 (two stride-2 layers; e.g. 28 or 32)")
        return value


class InfoGANSampleConfig(SampleConfig):
    """The traversal shown by the progress grid (run config section ``[sample]``; the paper sweeps -2..2)."""

    traverse_low: float = Field(-2.0, description="first value of each continuous code swept")
    traverse_high: float = Field(2.0, description="last value of each continuous code swept")
    traverse_steps: int = Field(8, ge=2, le=32, description="columns per continuous code swept")


@hookimpl
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    register(ModelSpec(
        name="infogan",
        task="unconditional",
        config_class=InfoGANConfig,
        paper="Chen, Duan, Houthooft, Schulman, Sutskever, Abbeel. InfoGAN: Interpretable Representation Learning "
        "by Information Maximizing Generative Adversarial Nets. NeurIPS 2016. arXiv:1606.03657",
        description="A GAN whose generator also gets latent codes (one categorical, continuous ones) and whose "
        "discriminator's Q head recovers them; maximising this mutual information makes the codes interpretable "
        "(digit class, slant, width) without labels.",
        train_defaults={"loss": "non-saturating", "lr_g": 1e-3, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999,
                        "n_critic": 1, "batch_size": 128},
        data_defaults={"dataset": "digits"},
        tiny_config={"image_size": 8, "latent_dim": 4, "categories": 3, "continuous_codes": 1, "hidden": 16,
                     "q_hidden": 8, "ngf": 4, "ndf": 4},
        tags=("unconditional", "latent-codes", "disentangled", "mutual-information"),
        train_settings=STEP_SETTINGS,  # its step is the core's default one (+ a logged estimate)
        sample_config=InfoGANSampleConfig,
    ))


@hookimpl
def ganzoo_latents(config: InfoGANConfig) -> Any:
    """``z`` (noise), ``code`` (categorical) and ``c1 .. cN`` (continuous codes), in the generator's argument order."""
    from ganzoo.latents import Categorical, Uniform
    from ganzoo_infogan.networks import continuous_names

    codes = {name: Uniform(1, -1.0, 1.0) for name in continuous_names(config.continuous_codes)}
    return {"z": Uniform(config.latent_dim, -1.0, 1.0), "code": Categorical(config.categories), **codes}


@hookimpl
def ganzoo_build_generator(config: InfoGANConfig) -> Any:
    from ganzoo_infogan.networks import InfoGenerator

    return InfoGenerator(config.latent_dim, config.categories, config.continuous_codes, config.channels,
                         config.image_size, config.hidden, config.ngf)


@hookimpl
def ganzoo_build_discriminator(config: InfoGANConfig) -> Any:
    """D with its Q head (one network: the head shares D's trunk and optimizer)."""
    from ganzoo_infogan.networks import InfoDiscriminator

    return InfoDiscriminator(config.categories, config.continuous_codes, config.channels, config.image_size,
                             config.hidden, config.q_hidden, config.ndf)


@hookimpl
def ganzoo_extra_loss(state: Any, role: str, context: Any) -> Mapping[str, Any]:
    """lambda * L_I on the step's fakes: in D's update it trains Q and the trunk, in G's update the generator."""
    from ganzoo_infogan.training import information_loss

    return information_loss(state, role, context)


@hookimpl
def ganzoo_train_step(model: ModelSpec, state: Any, batches: Any) -> Mapping[str, Any]:
    """The core's default step (with the information term) plus ``mi_estimate``: H(c) - cross-entropy of Q."""
    from ganzoo_infogan.training import train_step

    return train_step(model, state, batches)


@hookimpl
def ganzoo_preview(model: ModelSpec, state: Any) -> Any:
    """Latent traversals: one row per categorical code value, columns sweep c1 then c2 (fixed z)."""
    from ganzoo_infogan.training import traversal_columns

    return traversal_columns(model, state)
