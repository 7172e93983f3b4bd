"""``ganzoo train`` on users' folders: aligned A|B images for pix2pix, trainA/trainB for cyclegan."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
import torch

from ganzoo.checkpoint import load_run
from ganzoo.cli import main
from ganzoo.data.shapes import ShapesDataset
from ganzoo.images import save_grid

TINY = ["--set", "model.image_size=16", "--set", "model.ngf=4", "--set", "model.ndf=4", "--set", "model.d_layers=2"]


@pytest.fixture(autouse=True)
def _one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _train(model: str, dataset: Path, out: Path, *extra: str) -> None:
    status = main(["train", model, "--dataset", str(dataset), "--steps", "2", "--batch-size", "2", "--device", "cpu",
                   "--no-progress", "--out", str(out), *TINY, *extra])
    assert status == 0
    assert load_run(out).step == 2 and (out / "samples" / "latest.png").is_file()


def test_pix2pix_trains_on_an_aligned_folder(tmp_path: Path) -> None:
    pairs = ShapesDataset("paired", image_size=16, size=4).tensors
    for index in range(4):
        side_by_side = torch.cat([pairs["input"][index], pairs["image"][index]], dim=2)  # A | B along the width
        save_grid(side_by_side[None], tmp_path / "facades" / f"{index}.png", nrow=1)
    _train("pix2pix", tmp_path / "facades", tmp_path / "run", "--set", "model.dropout_blocks=1")


def test_cyclegan_trains_on_train_a_and_train_b_folders(tmp_path: Path) -> None:
    domains = ShapesDataset("unpaired", image_size=16, size=5).tensors
    for domain, count in (("a", 5), ("b", 3)):
        for index in range(count):
            save_grid(domains[domain][index][None], tmp_path / "h2z" / f"train{domain.upper()}" / f"{index}.png", nrow=1)
    _train("cyclegan", tmp_path / "h2z", tmp_path / "run", "--set", "model.n_blocks=1")
