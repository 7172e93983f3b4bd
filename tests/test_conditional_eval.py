"""Conditional generation end to end: class grids, --class, truncation, intra-FID / class accuracy, sweeps."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from ganzoo.cli import main
from ganzoo.metrics.bench import resolve_protocol
from ganzoo.metrics.conditional import BALANCED, class_metrics, reference_labels, split_per_class
from ganzoo.metrics.protocol import get_preset
from ganzoo.metrics.reference import reference_images
from ganzoo.sampling import class_grid_labels

SMALL_PROTOCOL = ["--num-samples", "200", "--set-protocol", "kid_subset_size=100", "--set-protocol", "kid_subsets=5",
                  "--set-protocol", "isc_splits=4"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A biggan-lite trained for a few steps on digits (tiny networks, EMA copied from the start)."""
    from ganzoo.trainer import train

    out = tmp_path_factory.mktemp("runs") / "biggan"
    train("biggan-lite", out, dataset="digits", steps=3, batch_size=8, device="cpu", progress=False,
          overrides=["train.n_critic=1"],
          model_config={"image_size": 8, "channels": 1, "ngf": 4, "ndf": 4, "latent_dim": 8, "shared_dim": 4})
    return out


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GANZOO_LEADERBOARD_DB", str(tmp_path / "board.sqlite"))
    return tmp_path


def test_class_grid_has_one_row_per_class() -> None:
    labels, per_row = class_grid_labels(10, 64)
    assert per_row == 6 and labels.tolist() == [k for k in range(10) for _ in range(6)]
    assert class_grid_labels(10, 3)[0].tolist() == list(range(10))  # at least one of each class


def test_sample_writes_a_class_grid_by_default_and_one_class_on_request(run_dir: Path, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    grid = tmp_path / "grid.png"
    assert main(["sample", str(run_dir), "--out", str(grid)]) == 0
    assert "wrote 60 samples" in capsys.readouterr().err  # 10 classes x 6
    width, height = Image.open(grid).size
    assert (width - 2) // 10 == 6 and (height - 2) // 10 == 10  # 8 px images + 2 px padding: 6 columns, 10 rows

    folder = tmp_path / "threes"
    assert main(["sample", str(run_dir), "--class", "3", "--num", "5", "--out", str(folder), "--truncation", "0.5"]) == 0
    assert len(list(folder.glob("*.png"))) == 5
    assert main(["sample", str(run_dir), "--class", "10"]) == 2
    assert "classes 0..9" in capsys.readouterr().err


def test_class_metrics_judge_real_digits_by_their_labels() -> None:
    protocol, extractor = resolve_protocol("class-conditional", "digits")
    images = torch.stack(list(reference_images(protocol)))
    labels = reference_labels(protocol)
    right = class_metrics(images, labels, protocol, extractor, 10)
    wrong = class_metrics(images, (labels + 1) % 10, protocol, extractor, 10)
    assert right["class_accuracy"] > 0.9 and wrong["class_accuracy"] < 0.1
    assert right["intra_fid"] < 1e-3 < wrong["intra_fid"]  # the real images of each class are the reference
    _, per_class = split_per_class(right)
    assert [k for k, _ in per_class["class_accuracy"]] == list(range(10))


def test_untruncated_protocols_keep_their_hash() -> None:
    digits = get_preset("digits")
    before = digits.model_dump(mode="json", exclude={"name", "truncation"})  # what was hashed before the field
    canonical = json.dumps(before, sort_keys=True, separators=(",", ":"))
    assert digits.digest() == hashlib.sha256(canonical.encode()).hexdigest()[:16]
    truncated = digits.with_changes(truncation=0.5)
    assert truncated.digest() != digits.digest() and truncated.name == "digits-custom"


def test_bench_records_balanced_labels_truncation_and_class_metrics(run_dir: Path, env: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", str(run_dir), "--metrics", "isc,fid", *SMALL_PROTOCOL, "--json", "--record"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["protocol"]["labels"] == BALANCED and plain["protocol"]["truncation"] is None
    assert "conditional" in plain["metric_set"]
    metrics = plain["metrics"]
    assert 0 <= metrics["class_accuracy"] <= 1 and metrics["intra_fid"] > 0
    assert {f"class_accuracy_{k}" for k in range(10)} <= set(metrics)
    assert {f"intra_fid_{k}" for k in range(10)} <= set(metrics)

    assert main(["bench", str(run_dir), "--metrics", "isc,fid", *SMALL_PROTOCOL, "--truncation", "0.5", "--json",
                 "--record"]) == 0
    truncated = json.loads(capsys.readouterr().out)
    assert truncated["protocol"]["truncation"] == 0.5 and truncated["protocol_hash"] != plain["protocol_hash"]
    assert truncated["metrics"]["fid"] != metrics["fid"]

    assert main(["leaderboard", "--format", "markdown"]) == 0
    board = capsys.readouterr().out
    assert "intra-FID" in board and "class acc." in board


def test_truncation_sweep_prints_a_table_and_writes_a_plot(run_dir: Path, env: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    plot = env / "sweep.svg"
    args = ["bench", str(run_dir), *SMALL_PROTOCOL, "--truncation-sweep", "0.5,2,none", "--sweep-out", str(plot)]
    assert main(args) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["truncation", "isc", "fid"]
    assert [row.split()[0] for row in table[1:]] == ["0.5", "2", "none"]
    svg = plot.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and svg.count("<circle") == 3
    assert main([*args[:-2], "--record"]) == 2
    assert main(["bench", str(run_dir), "--truncation-sweep", "0.5,x"]) == 2
    assert "'x' is not a number" in capsys.readouterr().err


def test_reference_class_features_are_cached_per_protocol(tmp_path: Path) -> None:
    protocol, extractor = resolve_protocol("class-conditional", "digits")
    images = torch.stack(list(reference_images(protocol)))[:100]
    labels = reference_labels(protocol)[:100]
    first = class_metrics(images, labels, protocol, extractor, 10, cache_root=tmp_path)
    [cached] = tmp_path.glob("class-features-*.safetensors")
    assert protocol.digest() in cached.name
    assert class_metrics(images, labels, protocol, extractor, 10, cache_root=tmp_path) == first
    cached.write_bytes(b"damaged")
    assert class_metrics(images, labels, protocol, extractor, 10, cache_root=tmp_path) == first
