"""``ganzoo train`` on the shapes image-to-image data and on users' folders, and ``ganzoo translate`` on image files."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch
from PIL import Image

from ganzoo.checkpoint import load_run
from ganzoo.cli import main
from ganzoo.data.shapes import ShapesDataset
from ganzoo.images import save_grid

SMALL = ["--set", "model.image_size=16", "--set", "model.ngf=4", "--set", "model.ndf=4", "--set", "model.d_layers=2"]
TINY = {"pix2pix": [*SMALL, "--set", "model.dropout_blocks=1"], "cyclegan": [*SMALL, "--set", "model.n_blocks=1"]}
DATASETS = {"pix2pix": "shapes-paired", "cyclegan": "shapes-unpaired"}


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """Single-threaded: two contended torch threads on a loaded 2-core machine are far slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tiny trained run per model, through the real ``ganzoo train`` command."""
    root = tmp_path_factory.mktemp("runs")
    made = {}
    for model, dataset in DATASETS.items():
        out = root / model
        status = main(["train", model, "--dataset", dataset, "--steps", "5", "--batch-size", "2", "--device", "cpu",
                       "--no-progress", "--out", str(out), "--set", "train.sample_every=5", *TINY[model]])
        assert status == 0
        made[model] = out
    return made


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    images = ShapesDataset("paired", split="test", image_size=24, size=3).tensors["input"]
    for index, image in enumerate(images):
        save_grid(image[None], folder / f"shape{index}.png", nrow=1)
    Image.fromarray(np.zeros((10, 30, 3), dtype=np.uint8)).save(folder / "wide.jpg")
    return folder


def test_train_command_writes_checkpoint_and_preview(runs: dict[str, Path]) -> None:
    for model, run in runs.items():
        loaded = load_run(run)
        assert loaded.spec.name == model and loaded.step == 5
        assert (run / "samples" / "step-000005.png").is_file()
    pools = load_run(runs["cyclegan"]).state.extras
    assert pools["pool_a"].shape == (10, 3, 16, 16)  # 5 steps x batch 2, kept in the checkpoint


def _read(path: Path) -> torch.Tensor:
    return torch.from_numpy(np.asarray(Image.open(path), dtype=np.float32)).permute(2, 0, 1)


def _expected(run: Path, files: list[Path], direction: str, seed: int = 0) -> torch.Tensor:
    """What the model's ganzoo_sample gives for ``files`` (as uint8 values), independently of the command."""
    from ganzoo.data.images import load_image, to_uint8
    from ganzoo.sampling import sample_images

    loaded = load_run(run)
    inputs = torch.stack([load_image(path, 16, 3) for path in files])
    generator = torch.Generator().manual_seed(seed)
    outputs = sample_images(loaded.state, len(files), inputs=inputs, generator=generator, direction=direction)
    return to_uint8(outputs).float()


def test_translate_folder_writes_same_names_at_model_size(runs: dict[str, Path], sources: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["translate", str(runs["pix2pix"]), "--input", str(sources), "--out", str(out)]) == 0
    files = sorted(sources.iterdir())
    assert sorted(p.name for p in out.iterdir()) == ["shape0.png", "shape1.png", "shape2.png", "wide.png"]
    written = torch.stack([_read(out / f"{path.stem}.png") for path in files])
    assert written.shape == (4, 3, 16, 16)
    assert torch.equal(written, _expected(runs["pix2pix"], files, "AtoB"))


def test_translate_directions_of_an_unpaired_model(runs: dict[str, Path], sources: Path, tmp_path: Path) -> None:
    image = sources / "shape1.png"
    for direction in ("AtoB", "BtoA"):
        out = tmp_path / direction
        assert main(["translate", str(runs["cyclegan"]), "--input", str(image), "--out", str(out),
                     "--direction", direction]) == 0
        assert torch.equal(_read(out / "shape1.png")[None], _expected(runs["cyclegan"], [image], direction))
    assert not torch.equal(_read(tmp_path / "AtoB" / "shape1.png"), _read(tmp_path / "BtoA" / "shape1.png"))


def test_keep_size_and_bad_files(runs: dict[str, Path], sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (sources / "broken.png").write_bytes(b"not a png")
    assert main(["translate", str(runs["pix2pix"]), "--input", str(sources), "--out", str(tmp_path / "a")]) == 2
    assert "broken.png" in capsys.readouterr().err
    assert main(["translate", str(runs["pix2pix"]), "--input", str(sources), "--out", str(tmp_path / "b"),
                 "--skip-bad-files", "--keep-size"]) == 0
    assert "1 undecodable skipped: broken.png" in capsys.readouterr().err
    assert Image.open(tmp_path / "b" / "wide.png").size == (30, 10)
    assert Image.open(tmp_path / "b" / "shape0.png").size == (24, 24)


def test_refusals_name_the_problem(runs: dict[str, Path], sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["translate", str(runs["pix2pix"]), "--input", str(sources), "--out", str(tmp_path),
                 "--direction", "BtoA"]) == 2
    assert "data.direction=BtoA" in capsys.readouterr().err
    assert main(["translate", str(runs["pix2pix"]), "--input", str(tmp_path / "missing"), "--out", str(tmp_path)]) == 2
    assert "no such file" in capsys.readouterr().err
    (sources / "shape0.jpg").write_bytes((sources / "wide.jpg").read_bytes())
    assert main(["translate", str(runs["pix2pix"]), "--input", str(sources), "--out", str(tmp_path)]) == 2
    assert "shape0.jpg" in capsys.readouterr().err


def _train(model: str, dataset: Path, out: Path, *extra: str) -> None:
    status = main(["train", model, "--dataset", str(dataset), "--steps", "2", "--batch-size", "2", "--device", "cpu",
                   "--no-progress", "--out", str(out), *TINY[model], *extra])
    assert status == 0
    assert load_run(out).step == 2 and (out / "samples" / "latest.png").is_file()


def test_pix2pix_trains_on_an_aligned_folder(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    pairs = ShapesDataset("paired", image_size=16, size=4).tensors
    for index in range(4):
        side_by_side = torch.cat([pairs["input"][index], pairs["image"][index]], dim=2)  # A | B along the width
        save_grid(side_by_side[None], tmp_path / "facades" / f"{index}.png", nrow=1)
    _train("pix2pix", tmp_path / "facades", tmp_path / "run", "--set", "data.direction=BtoA")
    image = tmp_path / "facades" / "0.png"
    # a model trained B -> A translates B -> A, and refuses the other direction
    assert main(["translate", str(tmp_path / "run"), "--input", str(image), "--out", str(tmp_path / "out")]) == 0
    assert "BtoA" in capsys.readouterr().err
    assert main(["translate", str(tmp_path / "run"), "--input", str(image), "--out", str(tmp_path / "out"),
                 "--direction", "AtoB"]) == 2
    assert "data.direction=AtoB" in capsys.readouterr().err


def test_cyclegan_trains_on_train_a_and_train_b_folders(tmp_path: Path) -> None:
    domains = ShapesDataset("unpaired", image_size=16, size=5).tensors
    for domain, count in (("a", 5), ("b", 3)):
        for index in range(count):
            save_grid(domains[domain][index][None], tmp_path / "h2z" / f"train{domain.upper()}" / f"{index}.png", nrow=1)
    _train("cyclegan", tmp_path / "h2z", tmp_path / "run")


def test_bench_records_translation_runs_under_their_dataset_preset(
    runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Runs trained on shapes-paired / shapes-unpaired bench without --protocol and land on the leaderboard.

    The protocol's resolution (8 px) differs from the models' (16 px): inputs are resized to the model's.
    """
    import json

    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GANZOO_LEADERBOARD_DB", str(tmp_path / "board.sqlite"))
    small = ["--num-samples", "40", "--set-protocol", "reference_size=40", "--set-protocol", "kid_subset_size=20",
             "--set-protocol", "image_size=8"]
    for model, run in runs.items():
        assert main(["bench", str(run), "--metrics", "fid", *small, "--record", "--json"]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["protocol_name"] == f"{DATASETS[model]}-custom" and result["train_steps"] == 5
        assert ({"l1", "psnr", "ssim"} <= set(result["metrics"])) == (model == "pix2pix")
    assert main(["leaderboard", "--format", "json"]) == 0
    entries = {group["entries"][0]["model"]: group["entries"][0] for group in json.loads(capsys.readouterr().out)}
    assert set(entries) == {"pix2pix", "cyclegan"}
    assert {"fid", "l1", "psnr", "ssim"} <= set(entries["pix2pix"]["metrics"])
    assert main(["leaderboard", "--format", "markdown"]) == 0
    assert "SSIM" in capsys.readouterr().out


def test_a_btoa_pix2pix_on_shapes_is_benched_in_its_direction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """data.direction=BtoA on shapes-paired learns filled -> outline; bench feeds filled shapes, scores outlines."""
    import json

    from ganzoo.metrics.reference import source_key, target_key

    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    _train_shapes = ["train", "pix2pix", "--dataset", "shapes-paired", "--steps", "1", "--batch-size", "2",
                     "--no-progress", "--out", str(tmp_path / "run"), *TINY["pix2pix"], "--set", "data.direction=BtoA"]
    assert main(_train_shapes) == 0
    assert main(["bench", str(tmp_path / "run"), "--metrics", "fid", "--num-samples", "20", "--set-protocol",
                 "reference_size=20", "--set-protocol", "kid_subset_size=10", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["protocol"]["direction"] == "BtoA" and "l1" in result["metrics"]
    from ganzoo.metrics.protocol import Protocol

    protocol = Protocol(**result["protocol"])
    assert (source_key(protocol), target_key(protocol)) == ("image", "input")
