"""The worked model-plugin examples of docs/plugins.md: extracted, installed, run through the conformance kit and
checked for what each one demonstrates (the loss-only and dataset-only ones: tests/test_extensions.py)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))  # torch-fidelity installs a top-level "tests" package
from test_extensions import docs_example, install_fake  # noqa: E402

from ganzoo.plugins import PluginHost  # noqa: E402
from ganzoo.testing import ConformanceSuite, build_tiny_state, conformance_tests, synthetic_batches  # noqa: E402

EXAMPLES = {"unconditional": ("mlpgan", "mlp-gan"), "class-conditional": ("cgan", "cgan"),
            "latent-codes": ("codegan", "codegan"), "roles": ("lrgan", "lrgan"), "iterative-sampler": ("ddls", "ddls")}
CHECKS = [name for name in dir(ConformanceSuite) if name.startswith("test_")]


def install_example(example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PluginHost:
    package, _ = EXAMPLES[example]
    for module in [m for m in sys.modules if m.startswith(f"ganzoo_{package}")]:
        monkeypatch.delitem(sys.modules, module)
    host = install_fake(tmp_path, monkeypatch, docs_example(example), package, f"ganzoo-plugin-{package}")
    root = Path(importlib.import_module(f"ganzoo_{package}.plugin").__file__).parents[1]
    monkeypatch.setenv("PYTHONPATH", str(root))  # for the kit's fresh-interpreter import check
    return host


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_model_example_passes_the_whole_conformance_kit(example: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    install_example(example, tmp_path, monkeypatch)
    model = EXAMPLES[example][1]
    suite = conformance_tests(model)
    skipped = []
    for check in CHECKS:
        try:
            getattr(suite(), check)(model)
        except pytest.skip.Exception:
            skipped.append(check)
    own_step = example == "roles"
    assert skipped == (["test_discriminator_scores", "test_generator_output_shape_dtype_range"] if own_step else [])


def step_metrics(model: str) -> tuple[object, dict[str, torch.Tensor]]:
    state = build_tiny_state(model)
    state.schedules.at(0)
    return state, state.host.call("ganzoo_train_step", model, state=state, batches=synthetic_batches(state))


def test_latent_codes_example_declares_codes_and_adds_the_information_term(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from ganzoo.sampling import Traversal, traversal_grid

    install_example("latent-codes", tmp_path, monkeypatch)
    state, metrics = step_metrics("codegan")
    assert {name: prior.describe() for name, prior in state.latents.items()} == {
        "z": "normal(4)", "code": "categorical(3)", "c": "uniform(2, -1, 1)"}
    assert {"loss_d_info", "loss_g_info"} <= set(metrics) and all(torch.isfinite(metrics[k]) for k in metrics)
    grid = traversal_grid(state, Traversal.parse("c.0=-1:1:4"), num=8, seed=0)
    assert grid.images.shape == (3 * 4, 1, 8, 8), "one row per category, one column per swept value"


def test_roles_example_trains_the_auxiliary_network_and_never_the_frozen_one(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    install_example("roles", tmp_path, monkeypatch)
    state, metrics = step_metrics("lrgan")
    assert state.roles == {"generator": "generator", "discriminator": "discriminator", "encoder": "auxiliary",
                           "features": "frozen"}
    assert set(state.optimizers) == {"generator", "discriminator", "encoder"}
    assert not any(p.requires_grad for p in state.networks["features"].parameters())
    assert {"loss_encoder", "loss_g_features", "loss_d", "loss_g"} <= set(metrics)


def test_iterative_sampler_example_runs_langevin_chains_with_its_sample_settings(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from ganzoo.sampling import apply_sample_settings, sample_images

    install_example("iterative-sampler", tmp_path, monkeypatch)
    state = build_tiny_state("ddls")
    assert state.config.sample.steps == 20

    def draw(steps: int) -> torch.Tensor:
        apply_sample_settings(state, [f"sample.steps={steps}"])
        return sample_images(state, 4, generator=torch.Generator().manual_seed(1))

    state.eval()  # the sampler runs the networks in eval mode
    with torch.no_grad():
        plain = state.generate(state.draw_latents(4, torch.Generator().manual_seed(1)))
    state.train()
    assert torch.allclose(draw(0), plain.clamp(-1, 1)), "0 steps: the prior's samples"
    chained = draw(5)
    assert not torch.allclose(chained, plain.clamp(-1, 1)) and torch.equal(chained, draw(5))
    assert all(p.grad is None for net in state.networks.values() for p in net.parameters()), "no gradients leak"
    assert all(net.training for net in state.networks.values()), "network modes restored"


def test_unconditional_example_trains_and_interpolates_from_the_command_line(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from ganzoo.cli import main

    install_example("unconditional", tmp_path, monkeypatch)
    run = tmp_path / "run"
    assert main(["train", "mlp-gan", "--dataset", "digits", "--set", "model.image_size=8", "--set", "model.channels=1",
                 "--set", "model.hidden=16", "--steps", "2", "--batch-size", "8", "--device", "cpu", "--no-progress",
                 "--out", str(run)]) == 0
    assert main(["sample", str(run), "--interpolate", "0:1", "--num", "8"]) == 0
    assert (run / "samples" / "interpolate-0-1.png").is_file()
