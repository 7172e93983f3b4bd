"""`ganzoo bench` and `ganzoo leaderboard` end to end: a trained run, recording once, the views."""

from __future__ import annotations

import json

import pytest

from ganzoo.cli import main

SMALL_PROTOCOL = ["--num-samples", "200", "--set-protocol", "kid_subset_size=100", "--set-protocol", "kid_subsets=5",
                  "--set-protocol", "isc_splits=4"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A dcgan trained for a few steps on digits (tiny networks)."""
    from ganzoo.trainer import train

    out = tmp_path_factory.mktemp("runs") / "dcgan"
    train("dcgan", out, dataset="digits", steps=3, batch_size=8, device="cpu", progress=False,
          model_config={"image_size": 16, "channels": 1, "ngf": 4, "ndf": 4, "latent_dim": 8})
    return out


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("GANZOO_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("GANZOO_LEADERBOARD_DB", str(tmp_path / "board.sqlite"))
    return tmp_path


def test_bench_a_run_records_once_and_shows_on_the_leaderboard(run_dir, env, capsys):
    args = ["bench", str(run_dir), "--metrics", "fid,kid", *SMALL_PROTOCOL, "--json", "--record"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["run_dir"] == str(run_dir) and result["train_steps"] == 3
    assert result["protocol_name"] == "digits-custom" and result["num_samples"] == 200
    assert set(result["metrics"]) == {"fid", "kid", "kid_std"}
    assert len(result["checkpoint_hash"]) >= 16 and not result["checkpoint_hash"].startswith("untrained")

    assert main(args) == 2  # the same checkpoint, protocol and metrics again
    err = capsys.readouterr().err
    assert "already on the leaderboard" in err and "entry #1" in err

    assert main(["leaderboard", "--format", "json"]) == 0
    [group] = json.loads(capsys.readouterr().out)
    assert group["protocol_hash"] == result["protocol_hash"]
    assert group["entries"][0]["metrics"]["fid"] == pytest.approx(result["metrics"]["fid"])

    page = env / "board.html"
    assert main(["leaderboard", "--format", "html", "--out", str(page), "--dataset", "digits"]) == 0
    assert "dcgan" in page.read_text(encoding="utf-8")
    assert main(["leaderboard", "--protocol", "nonexistent"]) == 0
    assert "empty" in capsys.readouterr().out


def test_bench_an_untrained_model_prints_metrics(env, capsys):
    args = ["bench", "dcgan", "--set", "model.ngf=4", "--set", "model.ndf=4", "--metrics", "fid", *SMALL_PROTOCOL]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "untrained dcgan" in out and "protocol digits-custom" in out and "fid" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "dcgan", "--metrics", "fid,ppl"], "unknown metric(s) ppl"),
        (["bench", "dcgan", "--protocol", "digitz"], "unknown protocol 'digitz'"),
        (["bench", "dcgan", "--protocol", "shapes-paired"], "evaluates paired-image-to-image models"),
        (["bench", "dcgan", "--feature-extractor", "nope"], "unknown feature extractor 'nope'"),
        (["bench", "dcgan", "--set-protocol", "kid_subset_size=5000"], "kid_subset_size"),
        (["bench", "dcgaan"], "unknown model 'dcgaan'"),
    ],
)
def test_bad_bench_arguments_are_one_clear_line(env, capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_list_protocols(capsys):
    assert main(["bench", "--list-protocols"]) == 0
    out = capsys.readouterr().out
    assert "cifar10-train-50k" in out and "digits" in out
