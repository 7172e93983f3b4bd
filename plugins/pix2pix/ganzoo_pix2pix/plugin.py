"""ganzoo entry point for pix2pix: config, metadata and hooks.

The networks are the core's :mod:`ganzoo.nn.unet` and :mod:`ganzoo.nn.patchgan`, imported lazily inside
the hooks so that loading this module (``ganzoo list``) never imports torch.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Mapping

from pydantic import Field, field_validator, model_validator

from ganzoo import ModelConfig, ModelSpec, hookimpl

GANZOO_API = ">=2,<3"


class Pix2PixConfig(ModelConfig):
    """pix2pix hyper-parameters (defaults: the paper's 256 px U-Net and 70x70 PatchGAN)."""

    image_size: int = Field(256, description="a power of two; the U-Net downsamples log2(image_size) times")
    channels: int = Field(3, ge=1, le=4, description="channels of the input and the target images")
    ngf: int = Field(64, ge=1, description="U-Net width (channels of its first layer)")
    ndf: int = Field(64, ge=1, description="PatchGAN width (channels of its first layer)")
    d_layers: int = Field(3, ge=1, description="PatchGAN stride-2 layers: 3 = 70x70 patches (1-5: 16/34/70/142/286)")
    norm: Literal["batch", "instance", "none"] = Field("batch", description="normalisation in G and D")
    dropout: float = Field(0.5, ge=0, lt=1, description="dropout in the decoder blocks next to the bottleneck")
    dropout_blocks: int | None = Field(
        None, ge=0, description="decoder blocks next to the bottleneck with dropout (None: the reference's "
        "log2(image_size) - 5, so 3 at 256 px and none at 32 px)"
    )
    test_dropout: bool = Field(True, description="keep dropout active when translating (as in the paper)")
    test_batch_statistics: bool = Field(
        True, description="normalise with the test batch's statistics when translating (the reference's test pass; "
        "false: BatchNorm running statistics)"
    )
    lambda_l1: float = Field(100.0, ge=0, description="weight of the L1 loss to the target")

    @field_validator("image_size")
    @classmethod
    def _power_of_two(cls, value: int) -> int:
        if value < 8 or value & (value - 1):
            raise ValueError("must be a power of two >= 8 (e.g. 32, 64, 128 or 256)")
        return value

    @model_validator(mode="after")
    def _patches_fit(self) -> Pix2PixConfig:
        limit = self.image_size.bit_length() - 3  # ganzoo.nn.patchgan.max_patch_layers, without importing torch
        if self.d_layers > limit:
            raise ValueError(f"d_layers = {self.d_layers} is too deep for {self.image_size} px images (at most {limit})")
        return self


@hookimpl
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(
            name="pix2pix",
            task="paired-image-to-image",
            config_class=Pix2PixConfig,
            paper="Isola, Zhu, Zhou, Efros. Image-to-Image Translation with Conditional Adversarial Networks. "
            "CVPR 2017. arXiv:1611.07004",
            description="Conditional GAN for paired translation: U-Net generator, PatchGAN on (input, output), "
            "adversarial + 100 x L1 loss.",
            # lr constant for the first half of train.steps, then linearly to 0 (the core's "linear" schedule)
            train_defaults={"loss": "non-saturating", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999,
                            "n_critic": 1, "batch_size": 1, "lr_schedule": "linear"},
            data_defaults={"dataset": "shapes-paired", "augment": ["jitter", "flip"]},  # the paper's 286 -> 256 jitter, mirror
            tiny_config={"image_size": 16, "ngf": 4, "ndf": 4, "d_layers": 2, "dropout_blocks": 1},
            train_settings=("loss",),  # its own step: one D and one G update, no gradient penalty or DiffAugment
            tags=("image-to-image", "paired", "u-net", "patchgan"),
        )
    )


@hookimpl
def ganzoo_build_generator(config: Pix2PixConfig) -> Any:
    from ganzoo.nn.unet import UNetGenerator, unet_downsamplings

    num_downs = unet_downsamplings(config.image_size)
    dropout_blocks = max(num_downs - 5, 0) if config.dropout_blocks is None else config.dropout_blocks
    return UNetGenerator(config.channels, config.channels, num_downs, config.ngf, config.norm, config.dropout,
                         dropout_blocks)


@hookimpl
def ganzoo_build_discriminator(config: Pix2PixConfig) -> Any:
    from ganzoo.nn.patchgan import PatchDiscriminator

    return PatchDiscriminator(2 * config.channels, config.ndf, config.d_layers, config.norm)


@hookimpl
def ganzoo_train_step(state: Any, batches: Any) -> Mapping[str, float]:
    """One D step on (input, target) vs (input, G(input)), then one G step on adversarial + lambda * L1."""
    import torch.nn.functional as F

    config = state.model_config
    batch = batches.next()
    source, target = batch["input"], batch["image"]
    generator, discriminator = state.networks["generator"], state.networks["discriminator"]
    with state.autocast():
        fake = generator(source)
        real_scores = discriminator(target, source).float()
        fake_scores = discriminator(fake.detach(), source).float()
        d_loss = 0.5 * state.loss.discriminator_loss(real_scores, fake_scores)
    state.optimize("discriminator", d_loss)
    with state.autocast():
        adversarial = state.loss.generator_loss(discriminator(fake, source).float())
        l1 = F.l1_loss(fake.float(), target.float())
        g_loss = adversarial + config.lambda_l1 * l1
    state.optimize("generator", g_loss)
    return {"loss_d": float(d_loss.detach()), "loss_g": float(g_loss.detach()), "loss_g_gan": float(adversarial.detach()),
            "l1": float(l1.detach()), "d_real": float(real_scores.detach().mean()),
            "d_fake": float(fake_scores.detach().mean()), "lr_factor": state.schedules.factor("generator", state.step)}


@hookimpl
def ganzoo_sample(model: ModelSpec, state: Any, num: int, inputs: Any, generator: Any) -> Any:
    """Translate ``inputs`` with the generator: dropout on (``test_dropout``) and BatchNorm with the batch's
    statistics (``test_batch_statistics``), as the reference's test pass."""
    from ganzoo.nn.translation import translate_images

    if inputs is None:
        raise ValueError(f"model {model.name!r} translates images: pass the source images as `inputs`")
    if num is not None and num > len(inputs):
        raise ValueError(f"asked for {num} translations of {len(inputs)} inputs")
    inputs = inputs if num is None else inputs[:num]
    net = state.sampling_network("generator")
    config = state.model_config
    return translate_images(net, inputs.to(state.device), generator, keep_dropout=config.test_dropout,
                            batch_statistics=config.test_batch_statistics and config.norm == "batch")
