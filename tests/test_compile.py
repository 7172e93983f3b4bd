"""``train.compile``: compiled networks train like eager ones and write the same checkpoints.

The tests compile with torch.compile's ``eager`` backend (TorchDynamo captures and replays the graphs without
code generation), which exercises the wrapping, the state dict keys and resume at test speed; the inductor
backend's compile time and speed are measured in ``benchmarks/compile_speed.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from ganzoo.checkpoint import load_run, resolve_checkpoint
from ganzoo.trainer import Trainer

sys.path.insert(0, str(Path(__file__).parent))
from trainer_helpers import few_digits, tiny_config  # noqa: E402

COMPILED = {"compile": True, "compile_backend": "eager"}


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return load_file(resolve_checkpoint(run_dir) / "weights.safetensors")


def test_compiled_training_matches_eager_and_checkpoints_have_plain_keys(tmp_path: Path) -> None:
    torch._dynamo.reset()
    Trainer(tiny_config(steps=4), tmp_path / "eager", dataset=few_digits()).train()
    from torch._dynamo.utils import counters

    counters.clear()
    Trainer(tiny_config(steps=4, **COMPILED), tmp_path / "compiled", dataset=few_digits()).train()
    assert counters["stats"]["unique_graphs"] >= 2  # the generator's and the discriminator's forward were captured
    eager, compiled = _weights(tmp_path / "eager"), _weights(tmp_path / "compiled")
    assert eager.keys() == compiled.keys()
    assert not any("_orig_mod" in key for key in compiled)
    for key in eager:
        torch.testing.assert_close(compiled[key], eager[key], rtol=1e-5, atol=1e-6, msg=key)


def test_a_compiled_run_resumes_exactly_with_or_without_compilation(tmp_path: Path) -> None:
    torch._dynamo.reset()
    Trainer(tiny_config(steps=6, checkpoint_every=3), tmp_path / "straight", dataset=few_digits()).train()
    Trainer(tiny_config(steps=3, checkpoint_every=3, **COMPILED), tmp_path / "split", dataset=few_digits()).train()
    # the second half runs eager: compiled and eager checkpoints are interchangeable
    Trainer(tiny_config(steps=6, checkpoint_every=3), tmp_path / "split", resume=True, dataset=few_digits()).train()
    assert load_run(tmp_path / "split").step == 6
    straight, split = _weights(tmp_path / "straight"), _weights(tmp_path / "split")
    for key in straight:
        torch.testing.assert_close(split[key], straight[key], rtol=1e-5, atol=1e-6, msg=key)


def test_a_spectrally_normalised_discriminator_compiles_with_inductor() -> None:
    """SAGAN's projection discriminator under inductor: reals then fakes, one backward (the D step), twice.

    Without eager power iterations this fails ("modified by an inplace operation"); ~20 s of compilation."""
    import copy

    from ganzoo.compiling import keep_power_iterations_eager
    from ganzoo.nn.spectral import spectral_norm_layers
    from ganzoo.state import build_state

    torch._dynamo.reset()
    discriminator = build_state("sagan", tiny_config("sagan"), device="cpu").networks["discriminator"]
    norms = len(list(spectral_norm_layers(discriminator)))
    assert keep_power_iterations_eager(discriminator) == norms > 0
    # a deep copy (an EMA, a plugin's snapshot) iterates on its own buffers, not the original's
    twin, labels = copy.deepcopy(discriminator), torch.randint(0, 10, (4,))
    before = [norm._u.clone() for _, norm in spectral_norm_layers(discriminator)]
    twin(torch.randn(4, 1, 16, 16), labels)
    assert all(torch.equal(norm._u, u) for (_, norm), u in zip(spectral_norm_layers(discriminator), before))
    assert not all(torch.equal(norm._u, u) for (_, norm), u in zip(spectral_norm_layers(twin), before))

    discriminator.compile(backend="inductor")
    for _ in range(2):
        reals = discriminator(torch.randn(4, 1, 16, 16), labels).mean()
        (reals - discriminator(torch.randn(4, 1, 16, 16), labels).mean()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in discriminator.parameters())
