"""The generic training loop: exact resume, run directory contents, divergence, EMA, the Python API."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo import defaults
from ganzoo.checkpoint import list_checkpoints, load_run, resolve_checkpoint
from ganzoo.config import load_run_config
from ganzoo.trainer import Trainer, TrainingDiverged, TrainingError

sys.path.insert(0, str(Path(__file__).parent))  # torch-fidelity installs a top-level "tests" package
from trainer_helpers import few_digits, metric_rows, tiny_config  # noqa: E402


@pytest.mark.parametrize("model", ["dcgan", "wgan-gp"])
def test_resuming_gives_the_same_losses_as_training_straight(tmp_path: Path, model: str) -> None:
    extra = {"ema_decay": 0.9, "ema_start": 2} if model == "dcgan" else {"n_critic": 2}
    straight = Trainer(tiny_config(model, steps=8, **extra), tmp_path / "straight", dataset=few_digits()).train()
    Trainer(tiny_config(model, steps=4, **extra), tmp_path / "split", dataset=few_digits()).train()
    resumed = Trainer.from_run_dir(tmp_path / "split", steps=8)
    resumed.dataset = few_digits()
    result = resumed.train()
    assert straight.step == result.step == 8
    rows_a, rows_b = metric_rows(tmp_path / "straight"), metric_rows(tmp_path / "split")
    assert [r["step"] for r in rows_b] == list(range(1, 9)) and rows_a[-1]["epoch"] >= 2
    for row_a, row_b in zip(rows_a, rows_b):
        for key in row_a:
            if key.startswith(("loss", "d_", "gradient")):
                assert row_b[key] == pytest.approx(row_a[key], abs=1e-6), f"{key} at step {row_a['step']}"
    a, b = load_run(tmp_path / "straight").state, load_run(tmp_path / "split").state
    for name in a.networks:
        for key, value in a.unwrapped(name).state_dict().items():
            assert torch.allclose(value.float(), b.unwrapped(name).state_dict()[key].float(), atol=1e-6), f"{name}.{key}"
    for name in a.ema:
        assert torch.allclose(a.ema[name].module.main[0].weight, b.ema[name].module.main[0].weight, atol=1e-6)


def test_a_run_directory_has_config_metrics_samples_and_checkpoints(tmp_path: Path) -> None:
    config = tiny_config(steps=7, log_every=2, sample_every=3, checkpoint_every=2, keep_checkpoints=2)
    result = ganzoo.train("dcgan", tmp_path, steps=7, model_config=config.model.model_dump(),
                          **{k: v for k, v in config.train.model_dump().items() if k != "steps"})
    assert result.step == 7 and not result.interrupted
    assert load_run_config(tmp_path / "config.toml", config_spec := ganzoo.get_model("dcgan")) == config
    rows = metric_rows(tmp_path)
    assert [row["step"] for row in rows] == [2, 4, 6, 7]
    assert all(math.isfinite(row["loss_d"]) and row["images_per_s"] > 0 for row in rows)
    samples = sorted(p.name for p in (tmp_path / "samples").glob("*.png"))
    assert samples == ["latest.png", "step-000003.png", "step-000006.png", "step-000007.png"]
    with Image.open(tmp_path / "samples" / "latest.png") as grid:  # 16 images of 16 px, 4 per row, 2 px padding
        assert grid.size == (4 * 18 + 2, 4 * 18 + 2) and grid.mode == "L"
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000006", "step-000007"]
    assert resolve_checkpoint(tmp_path).name == "step-000007" and result.checkpoint == resolve_checkpoint(tmp_path)
    assert config_spec.name == "dcgan"


def test_samples_come_from_fixed_noise(tmp_path: Path) -> None:
    trainer = Trainer(tiny_config(steps=2), tmp_path, dataset=few_digits())
    trainer.train()
    first, _ = trainer.preview_images()
    second, nrow = trainer.preview_images()
    assert torch.equal(first, second) and first.shape == (16, 1, 16, 16) and nrow == 4


def test_a_nan_loss_stops_naming_step_and_metric_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = defaults.DEFAULTS["ganzoo_train_step"]

    def poisoned(model, state, batches):  # type: ignore[no-untyped-def]
        metrics = dict(original(model, state, batches))
        if state.step == 4:  # the fifth step
            metrics["loss_g"] = float("nan")
        return metrics

    monkeypatch.setitem(defaults.DEFAULTS, "ganzoo_train_step", poisoned)
    with pytest.raises(TrainingDiverged, match=r"loss_g = nan at step 5.*step-000003") as error:
        Trainer(tiny_config(steps=10, checkpoint_every=3), tmp_path, dataset=few_digits()).train()
    assert "(network 'generator')" in str(error.value)
    assert load_run(tmp_path).step == 3
    assert max(row["step"] for row in metric_rows(tmp_path)) == 4


def test_a_huge_learning_rate_diverges_cleanly(tmp_path: Path) -> None:
    with pytest.raises(TrainingDiverged, match=r"diverged: .*(non-finite weights|= (nan|inf)).*at step \d+"):
        Trainer(tiny_config(steps=30, lr_g=1e30, lr_d=1e30, checkpoint_every=1), tmp_path, dataset=few_digits()).train()
    for checkpoint in list_checkpoints(tmp_path):  # nothing non-finite was ever saved
        state = load_run(tmp_path, checkpoint.name).state
        assert all(torch.isfinite(p).all() for net in state.networks.values() for p in net.parameters())


def test_an_existing_run_is_not_overwritten_and_resume_needs_checkpoints(tmp_path: Path) -> None:
    Trainer(tiny_config(steps=1), tmp_path / "run", dataset=few_digits()).train()
    with pytest.raises(TrainingError, match="already holds a run.*--resume"):
        Trainer(tiny_config(steps=1), tmp_path / "run")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TrainingError, match="no checkpoints"):
        Trainer(tiny_config(steps=1), tmp_path / "empty", resume=True)


def test_ema_weights_are_kept_and_used_for_sampling(tmp_path: Path) -> None:
    Trainer(tiny_config(steps=5, ema_decay=0.5), tmp_path, dataset=few_digits()).train()
    state = load_run(tmp_path).state
    ema, raw = state.sampling_network("generator"), state.unwrapped("generator")
    assert ema is not raw and not ema.training
    assert not torch.equal(ema.main[0].weight, raw.main[0].weight)


def test_resume_drops_metric_rows_written_after_the_last_checkpoint(tmp_path: Path) -> None:
    Trainer(tiny_config(steps=5, checkpoint_every=3, keep_checkpoints=5), tmp_path, dataset=few_digits()).train()
    # as if the process had been killed right after step 5, before its checkpoint
    import shutil

    shutil.rmtree(tmp_path / "checkpoints" / "step-000005")
    (tmp_path / "checkpoints" / "latest").write_text("step-000005\n")  # a stale pointer is tolerated too
    with open(tmp_path / "metrics.jsonl", "a") as handle:  # and a row torn by the kill
        handle.write('{"step": 6, "loss')
    trainer = Trainer.from_run_dir(tmp_path, steps=6)
    trainer.dataset = few_digits()
    trainer.train()
    assert [row["step"] for row in metric_rows(tmp_path)] == [1, 2, 3, 4, 5, 6]


def test_image_to_image_progress_grids_show_preview_columns_side_by_side(tmp_path: Path) -> None:
    if "pix2pix" not in ganzoo.list_models():
        pytest.skip("no paired image-to-image plugin installed")
    spec = ganzoo.get_model("pix2pix")
    ganzoo.train("pix2pix", tmp_path, dataset="shapes-paired", steps=1, batch_size=2, device="cpu", progress=False,
                 model_config=dict(spec.tiny_config), sample_count=4)
    size = int(spec.tiny_config.get("image_size", 16))
    with Image.open(tmp_path / "samples" / "latest.png") as grid:  # 4 held-out rows of input | output | target
        assert grid.size == (3 * (size + 2) + 2, 4 * (size + 2) + 2)


def test_skipped_undecodable_files_are_counted_and_named_when_training_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ganzoo.data.folders import ImageFolderDataset

    folder = tmp_path / "images"
    folder.mkdir()
    for index in range(8):
        Image.new("L", (16, 16), index * 30).save(folder / f"{index}.png")
    (folder / "broken.png").write_bytes(b"not a png")
    dataset = ImageFolderDataset(folder, 16, 1, skip_bad_files=True)
    Trainer(tiny_config(steps=1), tmp_path / "run", dataset=dataset).train()
    err = capsys.readouterr().err
    assert "skipped 1 undecodable image file(s)" in err and "broken.png" in err


def test_tensorboard_gets_the_logged_scalars_when_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    scalars: list[tuple[str, float, int]] = []

    class RecordingWriter:  # stands in for torch.utils.tensorboard.SummaryWriter (tensorboard is optional)
        def __init__(self, log_dir: str) -> None:
            assert Path(log_dir) == tmp_path / "run" / "tensorboard"

        def add_scalar(self, key: str, value: float, step: int) -> None:
            scalars.append((key, value, step))

        def close(self) -> None:
            scalars.append(("closed", 0.0, 0))

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = RecordingWriter  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    Trainer(tiny_config(steps=2, tensorboard=True, log_every=1), tmp_path / "run", dataset=few_digits()).train()
    assert {(key, step) for key, _, step in scalars} >= {("loss_d", 1), ("loss_g", 2), ("images_per_s", 2)}
    assert scalars[-1][0] == "closed"


def test_the_progress_bar_shows_step_losses_images_per_second_and_eta(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the tqdm bar
    Trainer(tiny_config(steps=3, progress=True, log_every=1), tmp_path, dataset=few_digits()).train()
    bar = capsys.readouterr().err.replace("\r", "\n").splitlines()
    final = [line for line in bar if "3/3" in line][-1]
    assert "loss_d=" in final and "loss_g=" in final and "images_per_s=" in final
    import re

    assert re.search(r"\[\d+:\d\d<\d+:\d\d", final), f"no ETA in {final!r}"  # tqdm's [elapsed<remaining
