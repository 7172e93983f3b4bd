"""``ganzoo sample --latent / --traverse / --interpolate / --set sample.KEY=...`` and ``bench --set sample.KEY``."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

import ganzoo.sampling
from ganzoo.checkpoint import load_run
from ganzoo.cli import main
from ganzoo.latents import LatentError
from ganzoo.plugins import PluginHost
from ganzoo.sampling import Interpolation, Traversal, interpolation_grid, traversal_grid

sys.path.insert(0, str(Path(__file__).parent))  # torch-fidelity installs a top-level "tests" package
from test_contract_v2 import v2_host  # noqa: E402,F401  (the "coded" model: z normal(3), code categorical(3), c1 uniform(1))


def train_tiny(host: PluginHost, model: str, out: Path) -> Path:
    assert main(["train", model, "--dataset", "digits", "--steps", "1", "--batch-size", "4", "--device", "cpu",
                 "--out", str(out), "--no-progress", "--set", "model.image_size=4", "--set", "model.channels=1",
                 "--set", "model.latent_dim=3"]) == 0
    return out


@pytest.fixture
def coded_run(v2_host: PluginHost, tmp_path: Path) -> Path:
    return train_tiny(v2_host, "coded", tmp_path / "coded")


@pytest.fixture
def seen_latents(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, torch.Tensor]]:
    """The latents every grid hands to the sampler."""
    seen: list[dict[str, torch.Tensor]] = []
    original = ganzoo.sampling.sample_images

    def recording(state, num, **kwargs):
        seen.append({name: value.clone() for name, value in kwargs["latents"].items()})
        return original(state, num, **kwargs)

    monkeypatch.setattr(ganzoo.sampling, "sample_images", recording)
    return seen


def test_traversal_rows_are_the_categorical_values_unless_one_is_fixed(coded_run: Path, seen_latents: list) -> None:
    state = load_run(coded_run).state
    grid = traversal_grid(state, Traversal.parse("c1=-1:1:4"), num=64, seed=0)
    latents = seen_latents[-1]
    assert grid.nrow == 4 and grid.images.shape == (12, 1, 4, 4)
    assert latents["code"].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert torch.allclose(latents["c1"].view(3, 4), torch.linspace(-1, 1, 4).repeat(3, 1))
    rows_z = latents["z"].view(3, 4, 3)
    assert torch.equal(rows_z, rows_z[:, :1].expand(-1, 4, -1)), "the other latents stay put along a row"
    assert not torch.equal(grid.images[0], grid.images[3]), "the swept code changes the image"

    traversal_grid(state, Traversal.parse("c1=-1:1:4"), num=8, seed=0, fixed={"code": torch.tensor([1])})
    latents = seen_latents[-1]
    assert latents["code"].tolist() == [1] * 8, "a fixed categorical latent holds in every cell"
    assert not torch.equal(latents["z"][0], latents["z"][4]), "rows are then num // steps seeded draws"

    traversal_grid(state, Traversal.parse("z.1=-2:2:3"), num=64, seed=0)
    z = seen_latents[-1]["z"].view(3, 3, 3)
    assert torch.allclose(z[:, :, 1], torch.linspace(-2, 2, 3).repeat(3, 1)) and torch.equal(z[:, :, 0], z[:, :1, 0].expand(-1, 3))


def test_interpolation_runs_from_one_seeds_draws_to_the_others(coded_run: Path, seen_latents: list) -> None:
    state = load_run(coded_run).state
    grid = interpolation_grid(state, Interpolation.parse("3:5:6"), num=12)
    z = seen_latents[-1]["z"].view(2, 6, 3)
    start = state.draw_latents(2, torch.Generator().manual_seed(3))["z"]
    end = state.draw_latents(2, torch.Generator().manual_seed(5))["z"]
    assert grid.nrow == 6 and len(grid.images) == 12
    assert torch.allclose(z[:, 0], start) and torch.allclose(z[:, -1], end)
    middle = z[0, 1:-1]
    assert not torch.allclose(middle, torch.lerp(start[0], end[0], torch.linspace(0, 1, 6)[1:-1, None])), "slerp, not lerp"


def test_cli_writes_latent_grids(coded_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def size(path: Path) -> tuple[int, int]:
        with Image.open(path) as image:
            return image.size

    cell = 4 + 2  # 4 px images, 2 px padding
    assert main(["sample", str(coded_run), "--traverse", "c1=-2:2:5", "--out", str(tmp_path / "t.png")]) == 0
    assert size(tmp_path / "t.png") == (5 * cell + 2, 3 * cell + 2)
    assert main(["sample", str(coded_run), "--latent", "code=2", "--traverse", "c1=-2:2:5", "--num", "10"]) == 0
    assert size(coded_run / "samples" / "traverse-c1-0.png") == (5 * cell + 2, 2 * cell + 2)
    assert main(["sample", str(coded_run), "--interpolate", "0:1", "--num", "16", "--out", str(tmp_path / "i.png")]) == 0
    assert size(tmp_path / "i.png") == (8 * cell + 2, 2 * cell + 2)
    assert main(["sample", str(coded_run), "--latent", "code=1", "--latent", "z=0.5", "--num", "4",
                 "--out", str(tmp_path / "fixed")]) == 0
    fixed = sorted((tmp_path / "fixed").glob("*.png"))
    assert len(fixed) == 4
    capsys.readouterr()

    bad = {
        ("--latent", "colour=1"): "has no latent 'colour' (its latents: z, code, c1)",
        ("--latent", "code=3"): "code is categorical(3); give a class index 0..2",
        ("--traverse", "c1=2:-2"): "expected NAME=LOW:HIGH:STEPS",
        ("--traverse", "c1=nan:1:3"): "with finite bounds",
        ("--latent", "z=inf"): "expected a finite number",
        ("--traverse", "code=0:1.5:3"): "values must be class indices 0..2",
        ("--traverse", "z.7=0:1:3"): "z has 3 dimensions",
        ("--interpolate", "0"): "expected SEED_A:SEED_B[:STEPS]",
        ("--interpolate", "0:99999999999999999999"): "expected SEED_A:SEED_B[:STEPS] with seeds 0..",
        ("--set", "sample.stpes=2"): "sample.stpes: unknown setting",
        ("--set", "train.steps=2"): "a trained run keeps its train settings",
        ("--traverse", "c1=0:1:99999999999"): "--traverse 299999999997: 299999999997 images",
    }
    for option, message in bad.items():
        assert main(["sample", str(coded_run), *option, "--out", str(tmp_path / "bad.png")]) == 2, option
        assert message in capsys.readouterr().err, option
    assert not (tmp_path / "bad.png").exists()


def test_sample_settings_reach_the_sampler_and_the_bench_protocol(coded_run: Path, tmp_path: Path) -> None:
    from ganzoo.metrics.bench import prepare, recorded_protocol
    from ganzoo.metrics.protocol import Protocol

    assert main(["sample", str(coded_run), "--set", "sample.steps=7", "--num", "2", "--out", str(tmp_path / "s.png")]) == 0
    target, protocol, _ = prepare(coded_run, overrides=["sample.steps=7"])
    assert target.state.config.sample.steps == 7 and target.config.sample.steps == 7
    recorded = recorded_protocol(target, protocol)
    assert recorded["sample"] == {"steps": 7}
    assert Protocol.from_record(recorded).digest() == protocol.digest(), "sampler settings do not split protocols"
    with pytest.raises(ValueError, match="keeps its model settings"):
        prepare(coded_run, overrides=["model.latent_dim=5"])


def test_latent_options_need_a_noise_model() -> None:
    from ganzoo.sampling import require_latents
    from ganzoo.testing import build_tiny_state

    state = build_tiny_state("pix2pix")
    with pytest.raises(LatentError, match="model 'pix2pix' translates images; it has no latents"):
        require_latents(state, "--interpolate")


def test_info_shows_latents_roles_and_honoured_train_settings(v2_host: PluginHost, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert main(["info", "roles", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["latents"] == {"z": "normal(100)"}  # the default latent_dim
    assert info["networks"] == {"generator": "generator", "discriminator": "discriminator", "encoder": "frozen",
                                "dae": "auxiliary"}
    assert info["train_settings"]["step"] == ["loss", "gp_weight", "n_critic", "reuse_fakes"]
    assert info["train_settings"]["ignored"] == ["diffaugment"] and "lr_schedule" in info["train_settings"]["trainer"]
    assert main(["info", "coded"]) == 0
    text = capsys.readouterr().out
    assert "latents: z ~ normal(100), code ~ categorical(3), c1 ~ uniform(1, -1, 1)" in text
    assert "networks: generator (generator), discriminator (discriminator)" in text
    assert "train step honours: loss, gp_weight, n_critic, reuse_fakes; ignored by its step" in text
