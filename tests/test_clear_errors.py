"""Failures a careful user meets end in one clear line (issue 12, items 10-16); tests/test_bad_inputs.py fuzzes more."""

from __future__ import annotations

import errno
import json
import sqlite3
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganzoo.cli import main
from ganzoo.config import ConfigError, resolve_config
from ganzoo.data import build_dataset
from ganzoo.data.errors import DataError
from ganzoo.data.folders import ImageFolderDataset
from ganzoo.data.loader import EpochLoader
from ganzoo.devices import DeviceError, resolve_device
from ganzoo.leaderboard import Leaderboard, LeaderboardError
from ganzoo.plugins import PluginContractError, get_host

sys.path.insert(0, str(Path(__file__).parent))  # torch-fidelity installs a top-level "tests" package
from test_leaderboard import fake_result  # noqa: E402
from trainer_helpers import tiny_cli_args  # noqa: E402


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clear") / "run"
    assert main(tiny_cli_args(path, steps=2)) == 0
    return path


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


# -- item 10: disks, paths, leaderboard files ---------------------------------------------------------------
def test_a_full_disk_while_checkpointing_is_one_line_and_leaves_no_half_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ganzoo import checkpoint

    def full(path: object, data: bytes) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint, "atomic_write_bytes", full)
    assert main(tiny_cli_args(tmp_path / "run", steps=1)) == 2
    err = _error(capsys)
    assert "cannot write the checkpoint of step 1" in err and "No space left on device" in err
    assert not [p for p in (tmp_path / "run" / "checkpoints").iterdir() if p.name.startswith(".step-")]


def test_an_unwritable_output_folder_fails_before_the_dataset_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    from ganzoo import trainer

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    monkeypatch.setattr(trainer, "build_dataset", lambda *a, **k: pytest.fail("built the dataset first"))
    assert main(tiny_cli_args(tmp_path / "run", steps=1)) == 2
    assert "cannot write into run directory" in _error(capsys)


def test_an_over_long_output_name_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(tiny_cli_args(tmp_path / ("x" * 300), steps=1)) == 2
    assert "File name too long" in _error(capsys)


@pytest.mark.parametrize("kind", ["text", "directory"])
def test_a_leaderboard_that_is_no_sqlite_file_is_named(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "board.sqlite"
    db.mkdir() if kind == "directory" else db.write_text("hello")
    with pytest.raises(LeaderboardError, match=str(db)):
        Leaderboard(db).entries()
    assert main(["leaderboard", "--db", str(db)]) == 2
    assert str(db) in _error(capsys)


def test_a_read_only_leaderboard_can_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    board = Leaderboard(tmp_path / "board.sqlite")
    board.record(fake_result("dcgan", "a"))
    real_connect = sqlite3.connect

    def read_only_disk(database: object, *args: object, uri: bool = False, **kwargs: object) -> sqlite3.Connection:
        if not uri:  # a writable open, as a read-only file system refuses it
            raise sqlite3.OperationalError("attempt to write a readonly database")
        return real_connect(database, *args, uri=uri, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only_disk)
    assert [e.model for e in board.entries()] == ["dcgan"]
    for write in (board.check_writable, lambda: board.record(fake_result("dcgan", "b"))):
        with pytest.raises(LeaderboardError, match="read-only: results cannot be recorded"):
            write()


@pytest.fixture
def read_only_copy(tmp_path: Path) -> object:
    """``tmp_path/ro``: a read-only bind mount of ``tmp_path/rw`` (needs root and mount; skipped elsewhere)."""
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("a read-only bind mount needs root")
    source, mounted = tmp_path / "rw", tmp_path / "ro"
    source.mkdir()
    mounted.mkdir()
    made = subprocess.run(["mount", "--bind", str(source), str(mounted)], capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {made.stderr.decode().strip()}")
    try:
        if subprocess.run(["mount", "-o", "remount,bind,ro", str(mounted)], capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield source, mounted
    finally:
        subprocess.run(["umount", str(mounted)], capture_output=True)


def test_a_real_read_only_file_system(read_only_copy: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    from ganzoo import trainer

    source, mounted = read_only_copy
    Leaderboard(source / "board.sqlite").record(fake_result("dcgan", "a"))
    assert main(["leaderboard", "--db", str(mounted / "board.sqlite"), "--format", "csv"]) == 0
    assert "dcgan" in capsys.readouterr().out
    with pytest.raises(LeaderboardError, match="is read-only: results cannot be recorded"):
        Leaderboard(mounted / "board.sqlite").record(fake_result("dcgan", "b"))
    (source / "run").mkdir()
    monkeypatch.setattr(trainer, "build_dataset", lambda *a, **k: pytest.fail("built the dataset first"))
    assert main(tiny_cli_args(mounted / "run", steps=1)) == 2
    assert "cannot write into run directory" in _error(capsys)


# -- item 11: damaged checkpoints ------------------------------------------------------------------------------
@pytest.mark.parametrize(("change", "expected"), [
    (lambda meta: meta.pop("step"), "it has no 'step'"),
    (lambda meta: meta.update(step="abc"), "'step' is 'abc', expected a whole number"),
    (lambda meta: meta.update(data_position={"epoch": -1}), "'data_position.epoch' is -1"),
])
def test_damaged_meta_names_the_file(run: Path, tmp_path: Path, change: object, expected: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    meta_path = next((copy / "checkpoints").glob("step-*")) / "meta.json"
    meta = json.loads(meta_path.read_text())
    change(meta)  # type: ignore[operator]
    meta_path.write_text(json.dumps(meta))
    for argv in (["sample", str(copy), "--out", str(tmp_path / "s.png")], ["train", "--resume", str(copy), "--steps", "4"]):
        assert main(argv) == 2
        err = _error(capsys)
        assert str(meta_path) in err and expected in err


def test_a_checkpoint_with_a_missing_file_is_named(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    checkpoint = next((copy / "checkpoints").glob("step-*"))
    (checkpoint / "weights.safetensors").unlink()
    assert main(["train", "--resume", str(copy), "--steps", "4"]) == 2  # not a silent restart from step 0
    assert f"{checkpoint} is damaged: weights.safetensors missing" in _error(capsys)


# -- item 12: bad images ----------------------------------------------------------------------------------------
def _image_folder(root: Path, big: bool) -> Path:
    root.mkdir()
    for index in range(4):
        Image.new("L", (8, 8), color=index * 40).save(root / f"ok{index}.png")
    Image.new("L", (64, 64) if big else (8, 8)).save(root / "zbomb.png")
    return root


def test_a_decompression_bomb_is_skipped_with_skip_bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64x64 is more than twice that: DecompressionBombError
    folder = _image_folder(tmp_path / "images", big=True)
    dataset = ImageFolderDataset(folder, 8, 1, skip_bad_files=True)
    assert len(dataset) == 4 and [p.name for p in dataset.skipped] == ["zbomb.png"]
    with pytest.raises(DataError, match="zbomb.png"):
        ImageFolderDataset(folder, 8, 1, skip_bad_files=False)


def test_a_bad_image_in_a_worker_process_is_one_line(tmp_path: Path) -> None:
    folder = _image_folder(tmp_path / "images", big=False)
    (folder / "zbomb.png").write_bytes(b"not an image")
    dataset = ImageFolderDataset(folder, 8, 1, skip_bad_files=False, preload_max_images=0)
    loader = EpochLoader(dataset, batch_size=5, num_workers=1)
    with pytest.raises(DataError) as error:
        next(iter(loader.epoch(0)))
    assert str(error.value).startswith("cannot decode image") and "zbomb.png" in str(error.value)
    assert "\n" not in str(error.value) and "Traceback" not in str(error.value)


# -- item 13: sizes and memory --------------------------------------------------------------------------------
def test_plugin_config_fields_keep_the_core_image_size_limit() -> None:
    spec = get_host().get_model("dcgan")
    with pytest.raises(ConfigError, match=r"model.image_size = 4096: must be within 4..2048"):
        resolve_config(spec, overrides=["model.image_size=4096"])


def test_sampling_more_than_memory_holds_is_refused(run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from ganzoo import sampling

    monkeypatch.setattr(sampling, "available_memory", lambda: 50 * 2**20)
    assert main(["sample", str(run), "--num", "100000", "--out", str(tmp_path / "s.png")]) == 2
    err = _error(capsys)
    assert "--num 100000" in err and "GiB of memory available; ask for at most" in err
    assert not (tmp_path / "s.png").exists()


def test_large_requests_are_drawn_in_chunks(run: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ganzoo import sampling
    from ganzoo.checkpoint import load_run

    state = load_run(run).state
    calls: list[int] = []
    real = get_host().call
    monkeypatch.setattr(get_host(), "call", lambda hook, *a, **k: (calls.append(k["num"]), real(hook, *a, **k))[1])
    monkeypatch.setattr(sampling, "SAMPLE_CHUNK", 4)
    images = sampling.sample_images(state, 10, generator=torch.Generator().manual_seed(0))
    assert images.shape[0] == 10 and calls == [4, 4, 2]


# -- item 14: devices, small benchmarks ---------------------------------------------------------------------
@pytest.mark.parametrize("name", ["foo", "cuda:x", "cpu:3", "gpu"])
def test_malformed_devices_are_named(name: str) -> None:
    with pytest.raises(DeviceError, match=f"--device '{name}'"):
        resolve_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("command", ["sample", "bench"])
def test_cuda_without_a_gpu_is_one_line(run: Path, command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, str(run), "--device", "cuda"]) == 2
    assert "--device 'cuda': no CUDA device is available (available here: cpu" in _error(capsys)


def test_bench_with_fewer_samples_than_a_kid_subset(run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["bench", str(run), "--num-samples", "20", "--metrics", "fid", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["num_samples"] == 20 and "fid" in result["metrics"]
    assert main(["bench", str(run), "--num-samples", "20", "--set-protocol", "kid_subset_size=50"]) == 2
    assert "kid_subset_size (50) must not exceed num_samples (20)" in _error(capsys)


# -- item 15: plugin hooks that fail --------------------------------------------------------------------------
def _replace_hook(monkeypatch: pytest.MonkeyPatch, hook: str, function: object) -> None:
    host = get_host()
    impl = host._impl(host._model_owner["dcgan"], hook)
    assert impl is not None, hook
    monkeypatch.setattr(impl, "function", function)


def _boom(config: object) -> object:
    raise RuntimeError("boom\nsecond line")


@pytest.mark.parametrize(("hook", "function", "expected"), [
    ("ganzoo_build_generator", _boom,
     "ganzoo_build_generator of plugin ganzoo-plugin-dcgan (model 'dcgan') failed: RuntimeError: boom second line"),
    ("ganzoo_build_discriminator", lambda config: "not a network",
     "ganzoo_build_discriminator of plugin ganzoo-plugin-dcgan (model 'dcgan') returned str; expected an nn.Module"),
])
def test_failing_build_hooks_name_plugin_hook_and_expectation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], hook: str, function: object,
    expected: str,
) -> None:
    _replace_hook(monkeypatch, hook, function)
    assert main(tiny_cli_args(tmp_path / "run", steps=1)) == 2
    assert expected in _error(capsys)


def test_a_train_step_returning_a_list_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from ganzoo import defaults

    host = get_host()
    real = host.call

    def call(hook: str, *args: object, **kwargs: object) -> object:
        if hook == "ganzoo_train_step":
            defaults.DEFAULTS[hook](**{**kwargs, "model": args[0]})
            return [1.0, 2.0]
        return real(hook, *args, **kwargs)

    monkeypatch.setattr(host, "call", call)
    assert main(tiny_cli_args(tmp_path / "run", steps=1)) == 2
    assert ("ganzoo_train_step of plugin ganzoo-plugin-dcgan (model 'dcgan') returned list; expected a mapping of "
            "metric names to numbers") in _error(capsys)


def test_a_plugin_value_error_stays_a_value_error_and_names_the_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(config: object) -> object:
        raise ValueError("ngf must be even")

    _replace_hook(monkeypatch, "ganzoo_build_generator", refuse)
    with pytest.raises(ValueError, match="plugin ganzoo-plugin-dcgan .*ngf must be even") as error:
        get_host().call("ganzoo_build_generator", "dcgan", config=None)
    assert isinstance(error.value, PluginContractError)


# -- item 16: validation gaps -------------------------------------------------------------------------------
@pytest.mark.parametrize(("argv", "expected"), [
    (["--seed", "99999999999999999999"], "train.seed = 99999999999999999999: Input should be less than or equal to"),
    (["--set", "train.steps=true"], "train.steps = True: expected a number, not true"),
    (["--set", "train.lr_g=inf"], "train.lr_g = inf: Input should be a finite number"),
    (["--set", "train.lr_d=nan"], "train.lr_d = nan: Input should be a finite number"),
    (["--set", "model.channels=2"], "model.channels = 2: images have 1 (grey), 3 (RGB) or 4 (RGBA) channels"),
])
def test_validation_gaps_are_closed(tmp_path: Path, argv: list[str], expected: str,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*tiny_cli_args(tmp_path / "run", steps=1), *argv]) == 2
    assert expected in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_channels_two_is_refused_for_every_dataset() -> None:
    spec = get_host().get_model("dcgan")
    config = resolve_config(spec, overrides=["model.channels=2", "model.image_size=16"])
    with pytest.raises(DataError, match="model.channels = 2"):
        build_dataset(config.data, config.model, spec.task)
