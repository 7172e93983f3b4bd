"""ganzoo entry point for PPGN (Nguyen et al. 2017): config, metadata and hooks (plugin API 2).

Networks and roles: ``generator`` G (h -> image), ``discriminator`` (images), ``dae`` R (auxiliary: the
learned prior over h) and ``classifier`` (frozen: the condition network C whose fc6-like layer is the encoder
E; see :mod:`ganzoo_ppgn.classifier`).  Sampling runs the MCMC chains of :mod:`ganzoo_ppgn.sampler` with the
run's ``[sample]`` settings (:class:`PPGNSampleConfig`).  torch and the networks are imported inside the
hooks so that loading this module stays cheap.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Mapping

from pydantic import Field

from ganzoo import ModelConfig, ModelSpec, hookimpl
from ganzoo.config import SampleConfig

GANZOO_API = ">=2,<3"


class PPGNConfig(ModelConfig):
    """PPGN's networks and training losses (the sampler's settings are in :class:`PPGNSampleConfig`)."""

    image_size: int = Field(32, description="image side in pixels (a power of two >= 8)")
    channels: int = Field(1, ge=1, le=3, description="image channels")
    num_classes: int = Field(10, ge=1, description="classes of the condition network")
    latent_dim: int = Field(128, ge=1, description="size of the code h: the classifier's feature size (128 for ppgn-digits)")
    classifier: str = Field("ppgn-digits", description="frozen E/C: ppgn-digits, ganzoo-digits-cnn, ganzoo-shapes-cnn, "
                            "timm:<model> or PATH.safetensors (from python -m ganzoo_ppgn.train_classifier)")
    classifier_weights: str | None = Field(None, description="weights file of a timm:<model> classifier (default: the "
                                           "local Hugging Face cache; never downloaded)")
    ngf: int = Field(32, ge=1, description="generator width (channels of its last up-convolution)")
    fc_width: int = Field(512, ge=1, description="units of the generator's fully connected layers")
    fc_layers: int = Field(3, ge=1, description="fully connected layers of the generator (the paper: 3)")
    ndf: int = Field(32, ge=1, description="discriminator width")
    dae_hidden: int = Field(256, ge=1, description="units per hidden layer of the DAE over h")
    dae_layers: int = Field(3, ge=1, description="hidden layers of the DAE over h")
    dae_noise: float = Field(0.1, gt=0, description="std of the DAE's training noise, relative to the RMS of h")
    lr_dae: float = Field(1e-3, gt=0, description="Adam learning rate of the DAE")
    lambda_image: float = Field(1.0, ge=0, description="weight of the image loss ||x - G(h)||^2 (mean over pixels)")
    lambda_feature: float = Field(0.5, ge=0, description="weight of the code loss ||h - E(G(h))||^2 / mean(h^2)")
    lambda_feature1: float = Field(0.5, ge=0, description="weight of the E1 (last conv map) loss, relative like h's")
    lambda_adversarial: float = Field(0.02, ge=0, description="weight of the adversarial loss")

class PPGNSampleConfig(SampleConfig):
    """The sampler's settings (run config section ``[sample]``; ``--set sample.steps=50``).

    They are the paper's, in the units of its AlexNet fc6 codes (range [0, 30]), and are rescaled to the range
    of this classifier's codes at sampling time (see :func:`ganzoo_ppgn.sampler.scaled_settings`).
    """

    steps: int = Field(200, ge=0, description="MCMC steps per chain (the paper: 200)")
    epsilon1: float = Field(1e-5, ge=0, description="prior weight eps1 (paper units)")
    epsilon2: float = Field(1.0, ge=0, description="condition weight eps2")
    epsilon3: float = Field(1e-17, ge=0, description="noise std eps3 (paper units)")
    lr: float = Field(1.0, gt=0, description="step size of the normalised update (paper units)")
    lr_end: float = Field(1.0, gt=0, description="step size at the last step (linear decay; paper units)")
    init_std: float = Field(1.0, ge=0, description="std of the random starting codes (paper units)")
    prior: Literal["dae", "joint"] = Field("dae", description="R(h): the trained DAE, or E(G(h)) (the paper's "
                                           "Noiseless Joint PPGN-h)")
    progress: bool = Field(True, description="progress bar for chains on a terminal")


@hookimpl
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(
            name="ppgn",
            task="class-conditional",
            config_class=PPGNConfig,
            paper="Nguyen, Clune, Bengio, Dosovitskiy, Yosinski. Plug & Play Generative Networks: Conditional "
            "Iterative Generation of Images in Latent Space. CVPR 2017. arXiv:1612.00005",
            description="A generator from a frozen classifier's feature code h to images (image, feature and "
            "adversarial losses) and a DAE prior over h; class-conditional samples come from MCMC chains in h "
            "steered by the classifier's log-probability of the class.",
            train_defaults={"loss": "non-saturating", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.9, "beta2": 0.999,
                            "n_critic": 1, "batch_size": 64},
            data_defaults={"dataset": "digits"},
            tiny_config={"image_size": 8, "ngf": 4, "fc_width": 16, "fc_layers": 2, "ndf": 4, "dae_hidden": 16,
                         "dae_layers": 1},
            tags=("class-conditional", "mcmc", "feature-space", "classifier-guided", "dae-prior"),
            roles={"classifier": "frozen", "dae": "auxiliary"},
            train_settings=("loss",),
            sample_config=PPGNSampleConfig,
        )
    )


@hookimpl
def ganzoo_build_generator(config: PPGNConfig) -> Any:
    from ganzoo_ppgn.networks import CodeGenerator

    return CodeGenerator(config.latent_dim, config.channels, config.image_size, config.ngf, config.fc_width,
                         config.fc_layers)


@hookimpl
def ganzoo_build_discriminator(config: PPGNConfig) -> Any:
    from ganzoo_ppgn.networks import CodeDAE, ImageDiscriminator

    classifier = _condition_network(config)
    return {
        "discriminator": ImageDiscriminator(config.ndf, config.channels, config.image_size),
        "dae": CodeDAE(config.latent_dim, config.dae_hidden, config.dae_layers),
        "classifier": classifier,
    }


def _condition_network(config: PPGNConfig) -> Any:
    import torch

    from ganzoo.config import ConfigError
    from ganzoo_ppgn.classifier import ClassifierError, load_condition_network

    try:
        classifier = load_condition_network(config.classifier, config.classifier_weights)
    except ClassifierError as exc:
        raise ConfigError(str(exc)) from None
    with torch.no_grad():
        probe = torch.zeros(1, config.channels, config.image_size, config.image_size)
        code = classifier.encode(probe)
    problems = []
    if code.shape[1] != config.latent_dim:
        problems.append(f"model.latent_dim = {config.latent_dim} but its codes h have {code.shape[1]} dimensions "
                        f"(set model.latent_dim={code.shape[1]})")
    if classifier.num_classes != config.num_classes:
        problems.append(f"model.num_classes = {config.num_classes} but it has {classifier.num_classes} classes "
                        f"(set model.num_classes={classifier.num_classes})")
    if problems:
        raise ConfigError(f"classifier {config.classifier!r}: " + "; ".join(problems))
    return classifier


@hookimpl
def ganzoo_latents(config: PPGNConfig) -> Any:
    """The chains' starting codes h (scaled by ``sample.init_std`` in the sampler)."""
    from ganzoo.latents import Normal

    return {"h": Normal(config.latent_dim)}


@hookimpl
def ganzoo_configure_optimizers(config: Any, networks: Mapping[str, Any]) -> Any:
    """Adam for G (``lr_g``), D (``lr_d``) and the DAE (``model.lr_dae``); the classifier is frozen."""
    import torch

    train = config.train
    betas = (train.beta1, train.beta2)
    return {
        "generator": torch.optim.Adam(networks["generator"].parameters(), lr=train.lr_g, betas=betas),
        "discriminator": torch.optim.Adam(networks["discriminator"].parameters(), lr=train.lr_d, betas=betas),
        "dae": torch.optim.Adam(networks["dae"].parameters(), lr=config.model.lr_dae, betas=betas),
    }


@hookimpl
def ganzoo_extra_state(state: Any) -> Mapping[str, Any]:
    """The range of real codes seen in training, per dimension (empty: low = +inf > high = -inf)."""
    import torch

    dim = state.model_config.latent_dim
    return {"code_low": torch.full((dim,), torch.inf, device=state.device),
            "code_high": torch.full((dim,), -torch.inf, device=state.device)}


@hookimpl
def ganzoo_train_step(state: Any, batches: Any) -> Mapping[str, float]:
    """One update of D, G and the DAE on the codes of a real batch (see :mod:`ganzoo_ppgn.training`)."""
    from ganzoo_ppgn.training import train_step

    return train_step(state, batches.next())


@hookimpl
def ganzoo_sample(state: Any, num: int, labels: Any, generator: Any, latents: Any) -> Any:
    """Class-conditional samples from PPGN chains (``[sample]`` settings), one chain per image.

    ``latents`` may give the starting codes ``h`` (in the N(0, 1) units of the declared latent).
    """
    from ganzoo_ppgn.training import sample_chains

    return sample_chains(state, num, labels, generator, latents=latents).images.float().clamp(-1, 1)


@hookimpl
def ganzoo_preview(state: Any, batch: Mapping[str, Any] | None) -> list[Any]:
    """The chain preview: one row per chain (one per class, or per label of ``batch``), columns over time."""
    from ganzoo_ppgn.training import chain_preview

    return chain_preview(state, (batch or {}).get("label"))
