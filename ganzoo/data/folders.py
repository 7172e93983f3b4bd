"""A folder of images as a dataset: class sub-folders become labels, a flat folder is unlabelled."""

from __future__ import annotations

from pathlib import Path

import torch
from torch.utils.data import Dataset

from ganzoo.data.images import DataError, IMAGE_EXTENSIONS, list_images, load_image


def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and list_images(p))


class ImageFolderDataset(Dataset):
    """Images under ``root``: ``root/<class>/*.png`` gives labelled items, ``root/*.png`` unlabelled ones.

    Small folders (up to ``preload_max_images`` files) are decoded once into memory.  With
    ``skip_bad_files`` every file is decoded up front and undecodable ones are left out and listed in
    ``skipped``; otherwise the first bad file stops training with an error naming it.
    """

    def __init__(
        self,
        root: str | Path,
        image_size: int,
        channels: int,
        skip_bad_files: bool = False,
        preload_max_images: int = 20000,
    ) -> None:
        self.root = Path(root)
        self.image_size, self.channels = image_size, channels
        folders = _class_folders(self.root)
        self.classes = [folder.name for folder in folders]
        if folders:
            self.files = [(path, label) for label, folder in enumerate(folders) for path in list_images(folder)]
        else:
            self.files = [(path, -1) for path in list_images(self.root)]
        if not self.files:
            raise DataError(
                f"no images found in {self.root} (looked for {', '.join(IMAGE_EXTENSIONS)} files directly inside it "
                "or in class sub-folders)"
            )
        self.skipped: list[Path] = []
        self.images: torch.Tensor | None = None
        self.tensors: dict[str, torch.Tensor] | None = None  # set when preloaded: the loader gathers from it
        if skip_bad_files or len(self.files) <= preload_max_images:
            self._decode_all(skip_bad_files)

    @property
    def labelled(self) -> bool:
        return bool(self.classes)

    def _decode_all(self, skip_bad_files: bool) -> None:
        images, kept = [], []
        for path, label in self.files:
            try:
                images.append(load_image(path, self.image_size, self.channels))
            except DataError:
                if not skip_bad_files:
                    raise
                self.skipped.append(path)
                continue
            kept.append((path, label))
        if not kept:
            raise DataError(f"none of the {len(self.files)} images in {self.root} could be decoded")
        self.files = kept
        self.images = torch.stack(images)
        self.tensors = {"image": self.images}
        if self.labelled:
            self.tensors["label"] = torch.tensor([label for _, label in kept], dtype=torch.int64)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        path, label = self.files[index]
        image = self.images[index] if self.images is not None else load_image(path, self.image_size, self.channels)
        item = {"image": image}
        if self.labelled:
            item["label"] = torch.tensor(label, dtype=torch.int64)
        return item
