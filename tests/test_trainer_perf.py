"""The trainer's performance contract: no per-step host reads, plain progress lines off a terminal, GPU-only choices."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
import torch

from ganzoo import defaults
from ganzoo.trainer import Trainer, TrainingDiverged

sys.path.insert(0, str(Path(__file__).parent))
from trainer_helpers import few_digits, metric_rows, tiny_config  # noqa: E402

HOST_READS = ("item", "tolist", "numpy", "__float__", "__int__", "__bool__", "__index__")


def count_host_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Patch every Tensor method that copies a value to Python; each call appends its name to the list.

    Reads made inside torch.optim are not counted: optimizers keep their step counters as host tensors
    (``state['step']`` stays on the CPU unless ``capturable``/``fused``), so reading them never waits for a device.
    """
    reads: list[str] = []
    for name in HOST_READS:
        original = getattr(torch.Tensor, name)

        def patched(self: torch.Tensor, *args: Any, _original: Callable[..., Any] = original, _name: str = name) -> Any:
            if "torch/optim" not in sys._getframe(1).f_code.co_filename.replace("\\", "/"):
                reads.append(_name)
            return _original(self, *args)

        monkeypatch.setattr(torch.Tensor, name, patched)
    return reads


def device_metric_step(model, state, batches):  # type: ignore[no-untyped-def]
    """A step that touches data, networks and noise and returns device-tensor metrics (as API-2 steps do)."""
    real = batches.next()["image"]
    with torch.no_grad():
        fake = state.generate(state.noise(real.size(0)))
        scores = state.discriminate(torch.cat([real, fake]))
    return {"loss_d": scores.mean(), "d_real": scores[: real.size(0)].mean()}


@pytest.mark.parametrize("step, ema", [("trainer only", None), ("trainer only", 0.99), ("default step", None),
                                       ("default step, fresh noise", None)])
def test_the_trainer_reads_metrics_from_the_device_only_at_log_and_checkpoint_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, ema: float | None
) -> None:
    if step == "trainer only":
        monkeypatch.setitem(defaults.DEFAULTS, "ganzoo_train_step", device_metric_step)
    extra = {"reuse_fakes": False} if "fresh" in step else {}
    data = few_digits(200)  # one epoch covers every run below: the sampler's per-epoch shuffle is read once
    counts = {}
    for steps in (2, 12):
        config = tiny_config(steps=steps, log_every=100, checkpoint_every=100, ema_decay=ema, **extra)
        trainer = Trainer(config, tmp_path / f"run{steps}", dataset=data)
        trainer._build()  # building (seeding, loading data) may read; the loop below must not, per step
        monkeypatch.setattr(trainer, "_build", lambda: None)
        with monkeypatch.context() as patch:
            reads = count_host_reads(patch)
            trainer.train()
        counts[steps] = len(reads)
    assert counts[12] == counts[2], f"host reads grow with the number of steps: {counts}"
    assert [row["step"] for row in metric_rows(tmp_path / "run12")] == [12]


def test_a_non_finite_metric_is_caught_at_the_next_read_naming_the_step_it_happened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def poisoned(model, state, batches):  # type: ignore[no-untyped-def]
        metrics = device_metric_step(model, state, batches)
        if state.step == 2:  # the third step
            metrics["loss_d"] = metrics["loss_d"] * float("inf")
        return metrics

    monkeypatch.setitem(defaults.DEFAULTS, "ganzoo_train_step", poisoned)
    with pytest.raises(TrainingDiverged, match=r"loss_d = inf at step 3\b.*no checkpoint"):
        Trainer(tiny_config(steps=10, log_every=5, checkpoint_every=5), tmp_path, dataset=few_digits()).train()
    assert metric_rows(tmp_path) == []  # the log step that found it wrote nothing


def test_off_a_terminal_progress_is_one_plain_line_per_log_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    Trainer(tiny_config(steps=6, progress=True, log_every=2), tmp_path, dataset=few_digits()).train()
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = [line for line in err.splitlines() if line.startswith("step ")]
    assert [line.split()[1] for line in lines] == ["2/6", "4/6", "6/6"]
    assert re.search(r"loss_d \S+ \| loss_g \S+ \| [\d.]+ img/s \| elapsed \d+:\d\d:\d\d \| eta 0:00:00$", lines[-1])


def test_optimizers_use_fused_or_foreach_kernels_only_when_every_parameter_is_on_cuda() -> None:
    from ganzoo.optim import accelerator_options, make_optimizer

    assert accelerator_options("adam", {"cuda"}) == {"fused": True}
    assert accelerator_options("adamw", {"cuda"}) == {"fused": True}
    assert accelerator_options("sgd", {"cuda"}) == {"foreach": True}
    assert accelerator_options("adam", {"cpu"}) == accelerator_options("adam", {"cpu", "cuda"}) == {}
    settings = {"optimizer": "adam", "lr": 1e-3, "betas": (0.5, 0.999), "weight_decay": 0.0, "momentum": 0.0}
    cpu_adam = make_optimizer(torch.nn.Linear(2, 2).parameters(), settings)
    assert not cpu_adam.defaults["fused"] and not cpu_adam.defaults["foreach"]  # torch's CPU defaults


def test_a_checkpoint_from_a_fused_gpu_optimizer_loads_with_this_devices_kernels(tmp_path: Path) -> None:
    from ganzoo.state import build_state

    state = build_state("dcgan", tiny_config(), device="cpu")
    saved = state.state_dict()
    for optimizer_state in saved["optimizers"].values():  # what a CUDA run writes
        for group in optimizer_state["param_groups"]:
            group["fused"] = True
    state.load_state_dict(saved)
    assert all(not group["fused"] for opt in state.optimizers.values() for group in opt.param_groups)


def test_tf32_is_set_for_cuda_devices_only() -> None:
    from ganzoo.state import configure_backends

    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    before = (matmul.allow_tf32, cudnn.allow_tf32, cudnn.benchmark)
    try:
        matmul.allow_tf32, cudnn.allow_tf32, cudnn.benchmark = False, False, False
        configure_backends(torch.device("cpu"))
        assert not matmul.allow_tf32 and not cudnn.benchmark
        configure_backends(torch.device("cuda"), tf32=True)
        assert matmul.allow_tf32 and cudnn.allow_tf32 and cudnn.benchmark
        configure_backends(torch.device("cuda"), tf32=False)
        assert not matmul.allow_tf32 and not cudnn.allow_tf32
    finally:
        matmul.allow_tf32, cudnn.allow_tf32, cudnn.benchmark = before


def test_bf16_trains_without_a_grad_scaler() -> None:
    from ganzoo.state import build_state

    assert not build_state("dcgan", tiny_config(precision="bf16"), device="cpu").scaler.is_enabled()


def test_batches_are_page_locked_only_for_a_cuda_device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pinned host batches let the trainer's ``non_blocking`` copies overlap GPU compute; on a CPU they only cost.

    ``Tensor.pin_memory`` needs a CUDA driver, so it is replaced by a recorder that returns the tensor unchanged.
    """
    from ganzoo.data.loader import EpochLoader

    pinned: list[tuple[int, ...]] = []
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda self, *args: pinned.append(tuple(self.shape)) or self)
    data = few_digits()
    assert len(list(EpochLoader(data, 8).epoch(0))) == 3 and not pinned
    batches = list(EpochLoader(data, 8, pin_memory=True).epoch(0))
    assert len(pinned) == 3 * len(data.tensors) and all(shape[0] == 8 for shape in pinned)
    assert set(batches[0]) == set(data.tensors)
    pinned.clear()
    Trainer(tiny_config(steps=2), tmp_path, dataset=data).train()  # this machine trains on the CPU
    assert not pinned
