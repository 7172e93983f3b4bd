"""The core's own plugin: losses, datasets, protocol presets and augmentations, registered like any plugin's.

Registration stays torch-free: every factory imports what it builds when it runs.
"""

from __future__ import annotations

from typing import Any, Callable

from ganzoo.hookspecs import hookimpl
from ganzoo.specs import AugmentationSpec, DatasetSpec, LossSpec


def _lazy(class_name: str) -> Callable[[], Any]:
    def factory() -> Any:
        from ganzoo import losses

        return getattr(losses, class_name)()

    return factory


@hookimpl
def ganzoo_register_losses(register: Callable[[LossSpec], None]) -> None:
    """Register the standard and the relativistic average losses."""
    register(LossSpec("non-saturating", _lazy("NonSaturatingLoss"), "BCE; G maximises log D(G(z)) (Goodfellow 2014)"))
    register(LossSpec("minimax", _lazy("MinimaxLoss"), "BCE; G minimises log(1 - D(G(z))), the original game"))
    register(LossSpec("hinge", _lazy("HingeLoss"), "hinge loss for D, -D(G(z)) for G (Lim & Ye 2017; SAGAN, BigGAN)"))
    register(LossSpec("wasserstein", _lazy("WassersteinLoss"), "critic E[D(fake)] - E[D(real)] (Arjovsky 2017)"))
    register(LossSpec("least-squares", _lazy("LeastSquaresLoss"), "LSGAN: (D(x)-1)^2 + D(G(z))^2 (Mao 2017; CycleGAN)"))
    register(LossSpec("rasgan", _lazy("RaSGANLoss"),
                      "relativistic average standard GAN; G also sees real scores (Jolicoeur-Martineau 2018)"))
    register(LossSpec("ralsgan", _lazy("RaLSGANLoss"), "relativistic average least squares (Jolicoeur-Martineau 2018)"))
    register(LossSpec("rahinge", _lazy("RaHingeLoss"), "relativistic average hinge loss (Jolicoeur-Martineau 2018)"))


def _digits(split: str, image_size: int, channels: int) -> Any:
    from ganzoo.data.digits import DigitsDataset

    return DigitsDataset(split, image_size, channels)


def _shapes(variant: str) -> Callable[..., Any]:
    def factory(data: Any, split: str, image_size: int, channels: int, task: str) -> Any:
        from ganzoo.data.shapes import ShapesDataset

        chosen = variant
        if variant == "labelled" and task.endswith("image-to-image"):  # plain "shapes" follows the model's task
            chosen = "paired" if task.startswith("paired") else "unpaired"
        direction = data.direction if chosen == "paired" else "AtoB"
        return ShapesDataset(chosen, split=split, image_size=image_size, channels=channels, direction=direction)

    return factory


def _torchvision(name: str) -> Callable[..., Any]:
    def factory(data: Any, split: str, image_size: int, channels: int) -> Any:
        from ganzoo.data.torchvision_datasets import build_torchvision_dataset

        return build_torchvision_dataset(name, split, image_size, channels, data.root, data.download)

    return factory


@hookimpl
def ganzoo_register_datasets(register: Callable[[DatasetSpec], None]) -> None:
    """Register the embedded, procedural and torchvision datasets."""
    from ganzoo.data.torchvision_catalogue import TORCHVISION_DATASETS

    register(DatasetSpec("digits", _digits, "scikit-learn's 1,797 handwritten 8x8 digits, labelled 0-9, embedded "
                         "(the default; no download)", tasks=("unconditional", "class-conditional")))
    register(DatasetSpec("shapes", _shapes("labelled"), "procedural coloured shapes, labelled by shape "
                         "(paired/unpaired variants chosen by the model's task)"))
    register(DatasetSpec("shapes-paired", _shapes("paired"), "procedural shapes, input image -> target image pairs "
                         "(pix2pix-style models)", tasks=("paired-image-to-image",)))
    register(DatasetSpec("shapes-unpaired", _shapes("unpaired"), "procedural shapes in two unpaired domains a and b "
                         "(CycleGAN-style models)", tasks=("unpaired-image-to-image",)))
    for name, entry in TORCHVISION_DATASETS.items():
        register(DatasetSpec(name, _torchvision(name),
                             f"{entry.description} (torchvision: downloads, or reads data.root offline)"))


@hookimpl
def ganzoo_register_protocols(register: Callable[[Any], None]) -> None:
    """Register the core's protocol presets."""
    from ganzoo.metrics.protocol import BUILTIN_PRESETS

    for preset in BUILTIN_PRESETS.values():
        register(preset)


def _augmentation(attribute: str, *args: Any) -> Callable[[], Any]:
    def factory() -> Any:
        from ganzoo import augment

        value = getattr(augment, attribute)
        return value(*args) if isinstance(value, type) else value

    return factory


@hookimpl
def ganzoo_register_augmentations(register: Callable[[AugmentationSpec], None]) -> None:
    """Register the papers' jitter and mirror (data stage) and DiffAugment's three operations (D stage)."""
    register(AugmentationSpec("jitter", _augmentation("Jitter"), "resize to 286/256 of the image size (bicubic), "
                              "random crop back (pix2pix, CycleGAN); one crop per paired item"))
    register(AugmentationSpec("flip", _augmentation("Flip"), "mirror left-right with probability 0.5"))
    register(AugmentationSpec("color", _augmentation("diff_color"), "DiffAugment: random brightness, saturation and "
                              "contrast (Zhao et al. 2020)", stage="discriminator"))
    register(AugmentationSpec("translation", _augmentation("diff_translation"), "DiffAugment: shift by up to 1/8 "
                              "of the size, zero fill", stage="discriminator"))
    register(AugmentationSpec("cutout", _augmentation("diff_cutout"), "DiffAugment: zero a random square of half "
                              "the size", stage="discriminator"))
