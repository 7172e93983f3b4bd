"""Run directories under stress: one writer at a time, SIGTERM, resume edge cases, damaged checkpoint folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ganzoo.checkpoint import CheckpointError, list_checkpoints, load_run, resolve_checkpoint
from ganzoo.plugins import get_host
from ganzoo.runlock import RunLock
from ganzoo.trainer import Trainer, TrainingError

sys.path.insert(0, str(Path(__file__).parent))  # torch-fidelity installs a top-level "tests" package
from trainer_helpers import few_digits, metric_rows, tiny_config  # noqa: E402


def _train(run: Path, steps: int = 2, **train: object) -> Trainer:
    trainer = Trainer(tiny_config(steps=steps, **train), run, dataset=few_digits())
    trainer.train()
    return trainer


def test_a_second_writer_is_refused_while_the_first_holds_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = Trainer(tiny_config(steps=2, seed=1), run, dataset=few_digits())
    with pytest.raises(TrainingError, match="in use by another ganzoo process"):
        Trainer(tiny_config(steps=2, seed=2), run, dataset=few_digits())
    first.train()
    assert 'seed = 1' in (run / "config.toml").read_text()
    assert load_run(run).meta["config"]["train"]["seed"] == 1
    with pytest.raises(TrainingError, match="in use"):  # resuming is writing too
        with RunLock(run):
            Trainer(tiny_config(steps=4, seed=1), run, resume=True, dataset=few_digits())


def test_the_lock_dies_with_the_process_that_held_it(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from ganzoo.runlock import RunLock; "
         "lock = RunLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(600)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(TrainingError, match=f"in use by another ganzoo process \\(process {holder.pid}\\)"):
            Trainer(tiny_config(steps=1), tmp_path)
    finally:
        holder.kill()
        holder.wait()
    Trainer(tiny_config(steps=1), tmp_path, dataset=few_digits()).train()  # the stale lock file does not block


def test_sigterm_stops_after_the_current_step_with_a_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    host = get_host()
    real_call = host.call

    def call(hook: str, *args: object, **kwargs: object) -> object:
        result = real_call(hook, *args, **kwargs)
        if hook == "ganzoo_train_step" and kwargs["state"].step == 2:  # type: ignore[union-attr]
            os.kill(os.getpid(), signal.SIGTERM)
        return result

    monkeypatch.setattr(host, "call", call)
    result = Trainer(tiny_config(steps=50), tmp_path, dataset=few_digits()).train()
    assert result.interrupted and result.stop_signal == signal.SIGTERM
    assert result.step == 3 and load_run(tmp_path).step == 3
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


def test_a_run_that_died_before_its_first_checkpoint_resumes_from_step_zero(tmp_path: Path) -> None:
    config = tiny_config(steps=3)
    config.save(tmp_path / "config.toml")  # what a run killed during its first steps leaves
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss_g": 1.0}\n{"step": 2, "lo')
    with pytest.raises(TrainingError, match="stopped before its first checkpoint; --resume starts it from step 0"):
        Trainer(config, tmp_path)
    result = Trainer(config, tmp_path, resume=True, dataset=few_digits()).train()
    assert result.step == 3 and [row["step"] for row in metric_rows(tmp_path)] == [1, 2, 3]


def test_resuming_to_fewer_steps_than_done_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    _train(tmp_path, steps=4)
    saved = (tmp_path / "config.toml").read_text()
    with pytest.raises(TrainingError, match="already at step 4; give --steps 4 or more"):
        Trainer.from_run_dir(tmp_path, steps=2)
    assert (tmp_path / "config.toml").read_text() == saved


def test_a_half_deleted_checkpoint_is_not_listed(tmp_path: Path) -> None:
    _train(tmp_path, steps=4, checkpoint_every=2)
    newest = resolve_checkpoint(tmp_path)
    (newest / "weights.safetensors").unlink()  # what an interrupted rmtree of an old checkpoint can leave
    assert newest not in list_checkpoints(tmp_path)
    assert resolve_checkpoint(tmp_path).name == "step-000002" and load_run(tmp_path).step == 2


def test_pruning_unlists_a_checkpoint_before_deleting_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ganzoo import checkpoint as ckpt

    deleted: list[Path] = []
    monkeypatch.setattr(ckpt.shutil, "rmtree", lambda path, **kw: deleted.append(Path(path)))  # "killed" while deleting
    _train(tmp_path, steps=4, checkpoint_every=1, keep_checkpoints=1)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000004"]
    assert {p.name.split(".")[1] for p in deleted if p.name.endswith(".deleting")} == {"step-000001", "step-000002",
                                                                                       "step-000003"}


@pytest.mark.parametrize("pointer", ["../../..", "/etc", "step-000002/../../x"])
def test_latest_never_points_outside_the_run(tmp_path: Path, pointer: str) -> None:
    _train(tmp_path, steps=2)
    (tmp_path / "checkpoints" / "latest").write_text(pointer)
    with pytest.raises(CheckpointError, match="not a checkpoint of this run"):
        resolve_checkpoint(tmp_path)


def test_latest_as_a_directory_is_named(tmp_path: Path) -> None:
    _train(tmp_path, steps=2)
    latest = tmp_path / "checkpoints" / "latest"
    latest.unlink()
    latest.mkdir()
    with pytest.raises(CheckpointError, match=f"{latest} is not a plain file"):
        load_run(tmp_path)


# -- crash test: a real kill (os._exit, no clean-up) at injected points, then resume ------------------------
_CRASHING_RUN = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[3])
    from trainer_helpers import few_digits, tiny_config
    from ganzoo import checkpoint, trainer
    point, run = sys.argv[1], Path(sys.argv[2])
    calls = {"n": 0}

    def die_on(owner, name, when):
        real = getattr(owner, name)
        def wrapper(*args, **kwargs):
            calls["n"] += 1
            if when(calls["n"], *args):
                os._exit(137)
            return real(*args, **kwargs)
        setattr(owner, name, wrapper)

    if point == "before-first-checkpoint":
        die_on(trainer.Trainer, "_checkpoint", lambda n, *a: True)
    elif point == "while-saving":   # mid-assembly of the second checkpoint
        die_on(checkpoint, "atomic_write_text", lambda n, path, *a: "step-000004" in str(path))
    elif point == "before-latest-moves":
        die_on(checkpoint, "atomic_write_text", lambda n, path, *a: path.name == "latest" and "4" in a[0])
    elif point == "while-pruning":  # deletes part of the old checkpoint, then dies
        real_rmtree = checkpoint.shutil.rmtree
        def half_delete(path, *a, **k):
            if not Path(path).name.startswith("step-") and not Path(path).name.endswith(".deleting"):
                return real_rmtree(path, *a, **k)
            for child in sorted(Path(path).iterdir())[:1]:
                child.unlink()
            os._exit(137)
        checkpoint.shutil.rmtree = half_delete
    trainer.Trainer(tiny_config(steps=6, checkpoint_every=2, keep_checkpoints=1), run, dataset=few_digits()).train()
""")


@pytest.mark.slow
@pytest.mark.parametrize("point", ["before-first-checkpoint", "while-saving", "before-latest-moves", "while-pruning"])
def test_a_run_killed_at_any_point_resumes_to_the_same_result(tmp_path: Path, point: str) -> None:
    straight = tmp_path / "straight"
    _train(straight, steps=6, checkpoint_every=2, keep_checkpoints=1)
    run = tmp_path / "run"
    crashed = subprocess.run([sys.executable, "-c", _CRASHING_RUN, point, str(run), str(Path(__file__).parent)],
                             capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert crashed.returncode == 137, crashed.stderr
    resumed = Trainer(tiny_config(steps=6, checkpoint_every=2, keep_checkpoints=1), run, resume=True,
                      dataset=few_digits()).train()
    assert resumed.step == 6
    assert [_losses(row) for row in metric_rows(run)] == [_losses(row) for row in metric_rows(straight)]
    assert [p.name for p in list_checkpoints(run)] == ["step-000006"]
    assert not [p for p in (run / "checkpoints").iterdir() if p.name.startswith(".")]  # no debris left


def _losses(row: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in row.items() if key.startswith("loss") or key == "step"}


def test_a_run_refuses_to_load_under_another_distribution(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from ganzoo.cli import main

    _train(tmp_path / "run", steps=1)
    meta_file = resolve_checkpoint(tmp_path / "run") / "meta.json"
    meta = json.loads(meta_file.read_text())
    assert meta["plugin"] == "ganzoo-plugin-dcgan"  # the run records the distribution that trained it
    meta["plugin"] = "ganzoo-plugin-dcgan-fork"  # as if another plugin had trained it under the same name
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="trained by ganzoo-plugin-dcgan-fork .* --allow-other-plugin"):
        load_run(tmp_path / "run")
    with pytest.raises(CheckpointError, match="trained by ganzoo-plugin-dcgan-fork"):
        Trainer(tiny_config(steps=2), tmp_path / "run", resume=True, dataset=few_digits()).train()
    out = tmp_path / "grid.png"
    assert main(["sample", str(tmp_path / "run"), "--num", "4", "--out", str(out)]) == 2
    assert "--allow-other-plugin" in capsys.readouterr().err and not out.exists()
    assert main(["sample", str(tmp_path / "run"), "--num", "4", "--out", str(out), "--allow-other-plugin"]) == 0
    assert out.is_file() and "GANZOO_ALLOW_OTHER_PLUGIN" not in os.environ
