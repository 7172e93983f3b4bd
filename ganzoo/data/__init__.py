"""Training data: named datasets, folders of images and torchvision datasets, as dict items.

:func:`build_dataset` is the single entry point.  Items follow the batch convention: ``image`` (and
``label`` when labelled) for noise-to-image models, ``input``/``image`` for paired and ``a``/``b`` for
unpaired image-to-image models, images as float ``(C, H, W)`` in ``[-1, 1]`` at the model's resolution.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.data.images import DataError

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from ganzoo.config import DataConfig, ModelConfig

__all__ = ["DataError", "build_dataset", "dataset_help", "known_datasets"]

_SHAPES_VARIANTS = {"shapes": "labelled", "shapes-paired": "paired", "shapes-unpaired": "unpaired"}
_BUILTIN_HELP = {
    "digits": "scikit-learn's 1,797 handwritten 8x8 digits, labelled 0-9, embedded (the default; no download)",
    "shapes": "procedural coloured shapes, labelled by shape (paired/unpaired variants chosen by the model's task)",
    "shapes-paired": "procedural shapes, input image -> target image pairs (pix2pix-style models)",
    "shapes-unpaired": "procedural shapes in two unpaired domains a and b (CycleGAN-style models)",
}
_TASK_FIELDS = {
    "unconditional": ("image",),
    "class-conditional": ("image", "label"),
    "paired-image-to-image": ("input", "image"),
    "unpaired-image-to-image": ("a", "b"),
}


def known_datasets() -> dict[str, str]:
    """Dataset names ``data.dataset`` accepts, with one line of help each (a folder path is also accepted)."""
    from ganzoo.data.torchvision_datasets import TORCHVISION_DATASETS

    listing = dict(_BUILTIN_HELP)
    for name, entry in TORCHVISION_DATASETS.items():
        listing[name] = f"{entry.description} (torchvision: downloads, or reads data.root offline)"
    return listing


def dataset_help() -> str:
    """The dataset listing as text (for ``--help``)."""
    lines = [f"  {name:16s} {text}" for name, text in known_datasets().items()]
    lines.append(f"  {'PATH':16s} a folder of images (class sub-folders become labels), trainA/ + trainB/ for unpaired "
                 "data, or pix2pix A|B images with data.format=aligned")
    return "\n".join(lines)


def build_dataset(data: DataConfig, model: ModelConfig, task: str, split: str | None = None) -> Dataset:
    """The dataset ``data.dataset`` at ``model``'s resolution and channels, checked against ``task``.

    ``split`` (default ``data.split``) is ``train`` or a held-out split such as ``test``.  Unknown names,
    missing files and datasets whose items do not fit the task raise :class:`DataError`.
    """
    split = split or data.split
    name = data.dataset
    dataset = _build(name, name.lower(), data, model, task, split)
    check_task(dataset, task, name, int(getattr(model, "num_classes", 0) or 0))
    return dataset


def _build(name: str, key: str, data: DataConfig, model: ModelConfig, task: str, split: str) -> Any:
    from ganzoo.data.torchvision_datasets import TORCHVISION_DATASETS, build_torchvision_dataset

    size, channels = int(model.image_size), int(model.channels)
    if key == "digits":
        from ganzoo.data.digits import DigitsDataset

        return DigitsDataset(split, size, channels)
    if key in _SHAPES_VARIANTS:
        from ganzoo.data.shapes import ShapesDataset

        variant = _SHAPES_VARIANTS[key]
        if key == "shapes" and task.endswith("image-to-image"):
            variant = "paired" if task.startswith("paired") else "unpaired"
        direction = data.direction if variant == "paired" else "AtoB"
        return ShapesDataset(variant, split=split, image_size=size, channels=channels, direction=direction)
    if key in TORCHVISION_DATASETS:
        return build_torchvision_dataset(key, split, size, channels, data.root, data.download)
    path = Path(name).expanduser()
    if path.is_dir():
        return _build_folder(path, data, size, channels, task, split)
    close = difflib.get_close_matches(key, list(known_datasets()), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise DataError(
        f"unknown dataset {name!r}{hint} (known: {', '.join(known_datasets())}; or give the path of an existing folder)"
    )


def _build_folder(path: Path, data: DataConfig, size: int, channels: int, task: str, split: str) -> Any:
    layout = data.format
    if layout == "auto":
        if (path / f"{split}A").is_dir() and (path / f"{split}B").is_dir():
            layout = "unpaired"
        elif task == "paired-image-to-image":
            layout = "aligned"
        else:
            layout = "folder"
    if layout == "unpaired":
        from ganzoo.data.pairs import UnpairedFolder

        return UnpairedFolder(path, split=split, image_size=size, channels=channels, skip_bad_files=data.skip_bad_files,
                              preload_max_images=data.preload_max_images)
    if layout == "aligned":
        from ganzoo.data.pairs import AlignedPairFolder

        root = path / split if (path / split).is_dir() else path
        return AlignedPairFolder(root, image_size=size, channels=channels, direction=data.direction,
                                 skip_bad_files=data.skip_bad_files, preload_max_images=data.preload_max_images)
    from ganzoo.data.folders import ImageFolderDataset

    root = path / split if (path / split).is_dir() else path
    return ImageFolderDataset(root, size, channels, data.skip_bad_files, data.preload_max_images)


def check_task(dataset: Any, task: str, name: str, num_classes: int = 0) -> None:
    """Refuse a dataset whose items lack the fields ``task`` needs (or whose labels exceed ``num_classes``)."""
    if len(dataset) == 0:
        raise DataError(f"dataset {name!r} is empty")
    fields = _TASK_FIELDS.get(task, ("image",))
    tensors = getattr(dataset, "tensors", None)
    item_fields = set(tensors) if isinstance(tensors, dict) else set(dataset[0])
    missing = [field for field in fields if field not in item_fields]
    if missing:
        raise DataError(
            f"dataset {name!r} does not fit a {task} model: its items have {', '.join(sorted(item_fields))}, "
            f"the model needs {', '.join(fields)}"
        )
    if task == "class-conditional" and isinstance(tensors, dict) and "label" in tensors:
        top = int(tensors["label"].max()) + 1
        if num_classes and top > num_classes:
            raise DataError(f"dataset {name!r} has {top} classes but model.num_classes = {num_classes}")
