"""Two CPU processes under torchrun (gloo): replicas stay identical and the checkpoint resumes in one process."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from ganzoo.checkpoint import load_run
from ganzoo.state import build_state
from ganzoo.trainer import Trainer

sys.path.insert(0, str(Path(__file__).parent))  # torch-fidelity installs a top-level "tests" package
from trainer_helpers import metric_rows  # noqa: E402

WORKER = textwrap.dedent(
    """
    import os, sys
    import torch
    from ganzoo import get_model, resolve_config
    from ganzoo.trainer import Trainer

    out = sys.argv[1]
    spec = get_model("dcgan")
    config = resolve_config(spec, values={
        "model": {**spec.tiny_config, "channels": 1, "image_size": 16},
        "train": {"steps": 3, "batch_size": 4, "device": "cpu", "progress": False, "log_every": 1,
                  "sample_count": 4, "checkpoint_every": 3},
    })
    trainer = Trainer(config, out)
    trainer.train()
    weights = {f"{name}.{key}": value.detach().clone()
               for name in trainer.state.networks
               for key, value in trainer.state.unwrapped(name).named_parameters()}
    torch.save(weights, os.path.join(out, f"rank{os.environ['RANK']}.pt"))
    """
)


def run_two_processes(worker: str, tmp_path: Path) -> list[dict]:
    """Run ``worker`` (a script taking the run directory) in two gloo processes; each saves ``rank{R}.pt``."""
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent)) or shutil.which("torchrun")
    if torchrun is None:
        pytest.skip("torchrun is not installed")
    script = tmp_path / "worker.py"
    script.write_text(worker)
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    result = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node=2", str(script), str(run)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [torch.load(run / f"rank{r}.pt", weights_only=True) for r in range(2)]


@pytest.mark.slow
def test_two_gloo_processes_keep_identical_replicas_and_resume_alone(tmp_path: Path) -> None:
    ranks = run_two_processes(WORKER, tmp_path)
    run = tmp_path / "run"
    assert ranks[0].keys() == ranks[1].keys()
    for key, value in ranks[0].items():
        assert torch.equal(value, ranks[1][key]), f"replicas differ in {key}"
    torch.manual_seed(0)  # the trainer's seed: the weights the processes started from
    initial = build_state("dcgan", load_run(run).config, device="cpu")
    start = {f"{name}.{key}": value for name in initial.networks for key, value in initial.networks[name].named_parameters()}
    assert start.keys() == ranks[0].keys()
    assert all(not torch.equal(start[key], value) for key, value in ranks[0].items() if key.endswith("weight")), "trained"

    loaded = load_run(run)
    assert loaded.step == 3
    for key, value in ranks[0].items():
        name, param = key.split(".", 1)
        assert torch.equal(dict(loaded.state.unwrapped(name).named_parameters())[param], value)
    assert [row["step"] for row in metric_rows(run)] == [1, 2, 3], "only rank 0 logs"

    Trainer.from_run_dir(run, steps=5).train()  # a single process continues the distributed run
    assert load_run(run).step == 5


ROLES_WORKER = textwrap.dedent(
    """
    import os, sys
    import torch
    from ganzoo import get_model, resolve_config
    from ganzoo.trainer import Trainer

    out = sys.argv[1]
    spec = get_model("ppgn")  # roles: classifier frozen, dae auxiliary
    config = resolve_config(spec, values={
        "model": dict(spec.tiny_config),
        "train": {"steps": 2, "batch_size": 4, "device": "cpu", "progress": False, "log_every": 1,
                  "sample_count": 4, "checkpoint_every": 2},
        "data": {"dataset": "digits"},
    })
    trainer = Trainer(config, out)
    trainer.train()
    state = trainer.state
    torch.save({"weights": {f"{name}.{key}": value.detach().clone() for name in state.networks
                            for key, value in state.unwrapped(name).named_parameters()},
                "wrapped": {name: isinstance(net, torch.nn.parallel.DistributedDataParallel)
                            for name, net in state.networks.items()}},
               os.path.join(out, f"rank{os.environ['RANK']}.pt"))
    """
)


@pytest.mark.slow
def test_under_ddp_frozen_networks_stay_unwrapped_and_auxiliary_ones_stay_in_sync(tmp_path: Path) -> None:
    """What docs/api.md promises about roles under DDP: trainable roles are wrapped and their replicas agree
    (ppgn's auxiliary DAE included), frozen networks are not wrapped."""
    if importlib.util.find_spec("ganzoo_ppgn") is None:
        pytest.skip("the ppgn plugin is not installed")
    ranks = run_two_processes(ROLES_WORKER, tmp_path)
    assert ranks[0]["wrapped"] == {"generator": True, "discriminator": True, "dae": True, "classifier": False}
    differ = [key for key, value in ranks[0]["weights"].items() if not torch.equal(value, ranks[1]["weights"][key])]
    assert not differ, f"replicas differ in {differ[:5]}"
