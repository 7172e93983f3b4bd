"""Training data: named datasets, folders of images and torchvision datasets, as dict items.

:func:`build_dataset` is the single entry point.  Items follow the batch convention: ``image`` (and
``label`` when labelled) for noise-to-image models, ``input``/``image`` for paired and ``a``/``b`` for
unpaired image-to-image models, images as float ``(C, H, W)`` in ``[-1, 1]`` at the model's resolution.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganzoo.data.errors import DataError

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from ganzoo.config import DataConfig, ModelConfig

__all__ = ["DataError", "build_dataset", "dataset_help", "known_datasets"]

_TASK_FIELDS = {
    "unconditional": ("image",),
    "class-conditional": ("image", "label"),
    "paired-image-to-image": ("input", "image"),
    "unpaired-image-to-image": ("a", "b"),
}


def known_datasets() -> dict[str, str]:
    """Dataset names ``data.dataset`` accepts (the core's and the plugins'), with one line of help each.

    A folder path is also accepted.  Datasets are registered through ``ganzoo_register_datasets``.
    """
    from ganzoo.plugins import get_host

    return {name: spec.description for name, spec in get_host().extensions("dataset").items()}


def dataset_help() -> str:
    """The dataset listing as text (for ``--help``)."""
    lines = [f"  {name:16s} {text}" for name, text in known_datasets().items()]
    lines.append(f"  {'PATH':16s} a folder of images (class sub-folders become labels), trainA/ + trainB/ for unpaired "
                 "data, or pix2pix A|B images with data.format=aligned")
    return "\n".join(lines)


IMAGE_CHANNELS = (1, 3, 4)


def build_dataset(data: DataConfig, model: ModelConfig, task: str, split: str | None = None) -> Dataset:
    """The dataset ``data.dataset`` at ``model``'s resolution and channels, checked against ``task``.

    ``split`` (default ``data.split``) is ``train`` or a held-out split such as ``test``.  Unknown names,
    missing files and datasets whose items do not fit the task raise :class:`DataError`.
    """
    split = split or data.split
    name = data.dataset
    if int(model.channels) not in IMAGE_CHANNELS:
        raise DataError(f"model.channels = {model.channels}: images have 1 (grey), 3 (RGB) or 4 (RGBA) channels")
    dataset = _build(name, name.lower(), data, model, task, split)
    check_task(dataset, task, name, int(getattr(model, "num_classes", 0) or 0))
    return dataset


def _build(name: str, key: str, data: DataConfig, model: ModelConfig, task: str, split: str) -> Any:
    from ganzoo.plugins import get_host
    from ganzoo.specs import call_with_accepted

    size, channels = int(model.image_size), int(model.channels)
    registered = get_host().extensions("dataset")
    if key in registered:
        spec = registered[key]
        what = f"dataset {key!r} (from {spec.plugin or 'a plugin'})"
        return call_with_accepted(spec.factory, what, split=split, image_size=size, channels=channels, task=task,
                                  data=data, model=model)
    path = Path(name).expanduser()
    if path.is_dir():
        return _build_folder(path, data, size, channels, task, split)
    close = difflib.get_close_matches(key, list(registered), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise DataError(
        f"unknown dataset {name!r}{hint} (known: {', '.join(registered)}; or give the path of an existing folder)"
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
