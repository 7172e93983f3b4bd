"""``ganzoo train`` and ``ganzoo sample`` from the command line, including Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from ganzoo.checkpoint import list_checkpoints, load_run
from ganzoo.cli import main

sys.path.insert(0, str(Path(__file__).parent))  # torch-fidelity installs a top-level "tests" package
from trainer_helpers import metric_rows, tiny_cli_args  # noqa: E402


def test_train_resume_and_sample(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(tiny_cli_args(run, steps=3)) == 0
    assert (run / "config.toml").is_file() and (run / "samples" / "latest.png").is_file()
    assert [row["step"] for row in metric_rows(run)][-1] == 3
    assert main(["train", "--resume", str(run), "--steps", "5", "--no-progress"]) == 0
    assert load_run(run).step == 5 and [row["step"] for row in metric_rows(run)] == [1, 2, 3, 4, 5]
    assert "steps = 5" in (run / "config.toml").read_text(), "the run's config records the new target"

    assert main(["sample", str(run), "--num", "6", "--nrow", "3", "--out", str(tmp_path / "grid.png"), "--seed", "1"]) == 0
    with Image.open(tmp_path / "grid.png") as grid:
        assert grid.size == (3 * 18 + 2, 2 * 18 + 2)
    assert main(["sample", str(run), "--num", "3", "--out", str(tmp_path / "each"), "--checkpoint", "step-000005"]) == 0
    files = sorted((tmp_path / "each").glob("*.png"))
    assert len(files) == 3 and Image.open(files[0]).size == (16, 16)
    assert "wrote 3 samples of dcgan (step 5)" in capsys.readouterr().err

    # options the model cannot honour are errors that say so, not silently ignored
    assert main(["sample", str(run), "--class", "3", "--truncation", "0.5", "--out", str(tmp_path / "c.png")]) == 2
    assert "--class 3: model 'dcgan' is unconditional" in capsys.readouterr().err
    assert main(["sample", str(run), "--truncation", "0", "--out", str(tmp_path / "t.png")]) == 2
    assert "must be a positive number" in capsys.readouterr().err
    assert not (tmp_path / "c.png").exists() and not (tmp_path / "t.png").exists()


def test_invalid_settings_fail_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main([*tiny_cli_args(run), "--set", "train.lr_g=-1"]) == 2
    assert "train.lr_g = -1" in capsys.readouterr().err and not run.exists()
    assert main([*tiny_cli_args(run), "--dataset", "no-such-data"]) == 2
    assert "unknown dataset 'no-such-data'" in capsys.readouterr().err and not run.exists()
    config = tmp_path / "bad.toml"
    config.write_text("[train]\nstepz = 3\n")
    assert main(["train", "dcgan", "--config", str(config), "--out", str(run)]) == 2
    assert "train.stepz: unknown setting" in capsys.readouterr().err and not run.exists()


def test_the_shipped_digits_config_is_valid() -> None:
    from ganzoo import get_model, resolve_config
    from ganzoo.config import load_toml

    root = Path(__file__).resolve().parents[1]
    config = resolve_config(get_model("dcgan"), load_toml(root / "configs" / "dcgan-digits.toml"))
    assert (config.model.image_size, config.model.channels, config.data.dataset) == (32, 1, "digits")


def test_list_datasets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--list-datasets"]) == 0
    listing = capsys.readouterr().out
    assert "digits" in listing and "mnist" in listing and "PATH" in listing


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = tiny_cli_args(run, steps=100000)
    process = subprocess.Popen([sys.executable, "-m", "ganzoo", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        deadline = time.monotonic() + 240
        while not ((run / "metrics.jsonl").is_file() and (run / "metrics.jsonl").stat().st_size > 0):
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "training never started"
            time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "Traceback" not in err and "interrupted at step" in err and "--resume" in err
    saved = list_checkpoints(run)
    assert saved and load_run(run).step == max(row["step"] for row in metric_rows(run)) >= 1
