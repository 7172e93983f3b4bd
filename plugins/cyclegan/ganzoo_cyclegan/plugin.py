"""ganzoo entry point for CycleGAN: config, metadata and hooks.

Networks: ``g_ab`` (A -> B) and ``g_ba`` (B -> A), ResNet generators; ``d_a`` tells real A images from
``g_ba``'s translations and ``d_b`` real B images from ``g_ab``'s, 70x70 PatchGANs.  The building blocks are
the core's (:mod:`ganzoo.nn.resnet_generator`, :mod:`ganzoo.nn.patchgan`, :mod:`ganzoo.nn.image_pool`),
imported lazily inside the hooks so that loading this module never imports torch.
"""

from __future__ import annotations

from typing import Any, Callable, Literal, Mapping

from pydantic import Field, field_validator, model_validator

from ganzoo import ModelConfig, ModelSpec, hookimpl

GANZOO_API = ">=2,<3"
DIRECTIONS = ("AtoB", "BtoA")
GENERATORS = {"AtoB": "g_ab", "BtoA": "g_ba"}


class CycleGANConfig(ModelConfig):
    """CycleGAN hyper-parameters (defaults: the paper's 256 px model)."""

    image_size: int = Field(256, description="image side in pixels, divisible by 4")
    channels: int = Field(3, ge=1, le=4, description="channels of the images of both domains")
    ngf: int = Field(64, ge=1, description="generator width (channels of its first layer)")
    ndf: int = Field(64, ge=1, description="discriminator width (channels of its first layer)")
    n_blocks: int | None = Field(None, ge=0, description="residual blocks (None: 9 above 128 px, else 6)")
    d_layers: int = Field(3, ge=1, description="PatchGAN stride-2 layers: 3 = 70x70 patches")
    norm: Literal["batch", "instance", "none"] = Field("instance", description="normalisation in G and D")
    dropout: float = Field(0.0, ge=0, lt=1, description="dropout inside the residual blocks (the paper: none)")
    lambda_cycle: float = Field(10.0, ge=0, description="weight of each cycle-consistency L1 loss")
    lambda_identity: float = Field(
        0.5, ge=0, description="identity-loss weight as a fraction of lambda_cycle (0 disables it)"
    )
    pool_size: int = Field(50, ge=0, description="generated images kept per discriminator (0: no history)")

    @field_validator("image_size")
    @classmethod
    def _divisible_by_four(cls, value: int) -> int:
        if value < 8 or value % 4:
            raise ValueError("must be divisible by 4 and at least 8 (the generator downsamples twice)")
        return value

    @model_validator(mode="after")
    def _patches_fit(self) -> CycleGANConfig:
        side = self.image_size
        for _ in range(self.d_layers):  # stride-2 4x4 convs, then two stride-1 convs that each shrink by one
            side = side // 2
        if side < 3:
            raise ValueError(f"d_layers = {self.d_layers} is too deep for {self.image_size} px images")
        return self

    @property
    def residual_blocks(self) -> int:
        """``n_blocks``, or the reference's choice for ``image_size``."""
        return self.n_blocks if self.n_blocks is not None else (9 if self.image_size > 128 else 6)


@hookimpl
def ganzoo_register_models(register: Callable[[ModelSpec], None]) -> None:
    register(
        ModelSpec(
            name="cyclegan",
            task="unpaired-image-to-image",
            config_class=CycleGANConfig,
            paper="Zhu, Park, Isola, Efros. Unpaired Image-to-Image Translation using Cycle-Consistent "
            "Adversarial Networks. ICCV 2017. arXiv:1703.10593",
            description="Two ResNet generators and two PatchGANs trained with least-squares, cycle-consistency "
            "and identity losses on unpaired domains.",
            # lr constant for the first half of train.steps, then linearly to 0 (the core's "linear" schedule)
            train_defaults={"loss": "least-squares", "lr_g": 2e-4, "lr_d": 2e-4, "beta1": 0.5, "beta2": 0.999,
                            "n_critic": 1, "batch_size": 1, "lr_schedule": "linear"},
            data_defaults={"dataset": "shapes-unpaired", "augment": ["jitter", "flip"]},  # the paper's 286 -> 256 jitter, mirror
            tiny_config={"image_size": 16, "ngf": 4, "ndf": 4, "n_blocks": 1, "d_layers": 2, "pool_size": 3},
            tags=("image-to-image", "unpaired", "resnet", "patchgan", "cycle-consistency"),
            train_settings=("loss",),  # its own step: no gradient penalty, critic steps or DiffAugment
        )
    )


@hookimpl
def ganzoo_build_generator(config: CycleGANConfig) -> Any:
    from ganzoo.nn.resnet_generator import ResnetGenerator

    def build() -> Any:
        return ResnetGenerator(config.channels, config.channels, config.ngf, config.residual_blocks, config.norm,
                               config.dropout)

    return {"g_ab": build(), "g_ba": build()}


@hookimpl
def ganzoo_build_discriminator(config: CycleGANConfig) -> Any:
    from ganzoo.nn.patchgan import PatchDiscriminator

    return {name: PatchDiscriminator(config.channels, config.ndf, config.d_layers, config.norm) for name in ("d_a", "d_b")}


@hookimpl
def ganzoo_configure_optimizers(config: Any, networks: Mapping[str, Any]) -> Any:
    """As the reference: one optimizer over both generators (``generators``), one over both discriminators
    (``discriminators``), built from the core's settings (``train.optimizer``, ``lr_g``/``lr_d``, betas,
    ``[train.optim.generators]`` / ``[train.optim.discriminators]``); the trainer applies ``train.lr_schedule``."""
    import itertools

    from ganzoo.optim import make_optimizer, network_settings

    generators = itertools.chain(networks["g_ab"].parameters(), networks["g_ba"].parameters())
    discriminators = itertools.chain(networks["d_a"].parameters(), networks["d_b"].parameters())
    return {"generators": make_optimizer(generators, network_settings(config.train, "generators", "generator")),
            "discriminators": make_optimizer(discriminators,
                                             network_settings(config.train, "discriminators", "discriminator"))}


@hookimpl
def ganzoo_extra_state(state: Any) -> Mapping[str, Any]:
    """Empty image pools of generated A and B images (tensors, so checkpoints keep them)."""
    import torch

    config = state.model_config
    empty = (0, config.channels, config.image_size, config.image_size)
    return {"pool_a": torch.empty(empty, device=state.device), "pool_b": torch.empty(empty, device=state.device)}


@hookimpl
def ganzoo_train_step(state: Any, batches: Any) -> Mapping[str, float]:
    """The reference update: generators on adversarial + cycle + identity losses, then both
    discriminators on real images against pooled fakes (each D loss halved)."""
    batch = batches.next()
    metrics, fake_a, fake_b = _generator_step(state, batch["a"], batch["b"])
    metrics.update(_discriminator_step(state, batch["a"], batch["b"], fake_a, fake_b))
    metrics["lr_factor"] = state.schedules.factor("generators", state.step)
    return metrics


def _generator_step(state: Any, real_a: Any, real_b: Any) -> tuple[dict[str, float], Any, Any]:
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel

    config, nets, loss = state.model_config, state.networks, state.loss
    # no weight gradients into D during the generator update (they would be zeroed anyway); DDP-wrapped
    # discriminators keep theirs, since DDP expects a gradient for every parameter it was built with
    discriminators = [nets[name] for name in ("d_a", "d_b") if not isinstance(nets[name], DistributedDataParallel)]
    for net in discriminators:
        net.requires_grad_(False)
    try:
        with state.autocast():
            fake_b, fake_a = nets["g_ab"](real_a), nets["g_ba"](real_b)
            adversarial_ab = loss.generator_loss(nets["d_b"](fake_b).float())
            adversarial_ba = loss.generator_loss(nets["d_a"](fake_a).float())
            cycle_a = F.l1_loss(nets["g_ba"](fake_b).float(), real_a.float())
            cycle_b = F.l1_loss(nets["g_ab"](fake_a).float(), real_b.float())
            g_loss = adversarial_ab + adversarial_ba + config.lambda_cycle * (cycle_a + cycle_b)
            metrics = {"loss_g_ab": float(adversarial_ab.detach()), "loss_g_ba": float(adversarial_ba.detach()),
                       "cycle_a": float(cycle_a.detach()), "cycle_b": float(cycle_b.detach())}
            if config.lambda_identity > 0:
                identity_b = F.l1_loss(nets["g_ab"](real_b).float(), real_b.float())
                identity_a = F.l1_loss(nets["g_ba"](real_a).float(), real_a.float())
                g_loss = g_loss + config.lambda_cycle * config.lambda_identity * (identity_a + identity_b)
                metrics.update(identity_a=float(identity_a.detach()), identity_b=float(identity_b.detach()))
        state.optimize("generators", g_loss)
    finally:
        for net in discriminators:
            net.requires_grad_(True)
    metrics["loss_g"] = float(g_loss.detach())
    return metrics, fake_a.detach(), fake_b.detach()


def _discriminator_step(state: Any, real_a: Any, real_b: Any, fake_a: Any, fake_b: Any) -> dict[str, float]:
    from ganzoo.nn.image_pool import ImagePool

    config, nets, loss, extras = state.model_config, state.networks, state.loss, state.extras
    pooled = {}
    for name, fake in (("pool_a", fake_a), ("pool_b", fake_b)):
        pool = ImagePool(config.pool_size, extras.get(name))
        pooled[name] = pool.query(fake)
        extras[name] = pool.images
    with state.autocast():
        d_a = 0.5 * loss.discriminator_loss(nets["d_a"](real_a).float(), nets["d_a"](pooled["pool_a"]).float())
        d_b = 0.5 * loss.discriminator_loss(nets["d_b"](real_b).float(), nets["d_b"](pooled["pool_b"]).float())
    state.optimize("discriminators", d_a + d_b)
    return {"loss_d_a": float(d_a.detach()), "loss_d_b": float(d_b.detach())}


def _translate(state: Any, inputs: Any, direction: str | None, generator: Any = None) -> Any:
    from ganzoo.nn.translation import translate_images

    direction = direction or "AtoB"
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}; got {direction!r}")
    net = state.sampling_network(GENERATORS[direction])
    return translate_images(net, inputs.to(state.device), generator)


@hookimpl
def ganzoo_sample(model: ModelSpec, state: Any, num: int, inputs: Any, generator: Any, direction: str) -> Any:
    """Translate ``inputs`` from domain A to B (``direction="AtoB"``, the default) or from B to A."""
    if inputs is None:
        raise ValueError(f"model {model.name!r} translates images: pass the source images as `inputs`")
    if num is not None and num > len(inputs):
        raise ValueError(f"asked for {num} translations of {len(inputs)} inputs")
    return _translate(state, inputs if num is None else inputs[:num], direction, generator)


@hookimpl
def ganzoo_preview(state: Any, batch: Mapping[str, Any]) -> list[Any]:
    """Columns A | G(A) | F(G(A)): the translation and its reconstruction."""
    real_a = batch["a"].to(state.device).float()
    fake_b = _translate(state, real_a, "AtoB")
    return [real_a, fake_b, _translate(state, fake_b, "BtoA")]
