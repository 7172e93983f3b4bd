"""scripts/official_leaderboard.py: one budget rule for every official model, and the checks it reports."""

from __future__ import annotations

import importlib.util
import sys
import tempfile
from pathlib import Path

import pytest

import ganzoo
from ganzoo.config import resolve_config
from ganzoo.leaderboard import Leaderboard

from .test_leaderboard_html import seeded_result

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("official_leaderboard", ROOT / "scripts" / "official_leaderboard.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def test_every_model_of_a_protocol_sees_the_same_real_images(script):
    budget = {"digits": 3840, "shapes-paired": 192, "shapes-unpaired": 192}
    seen = {}
    for model in ("dcgan", "wgan-gp", "pix2pix", "cyclegan"):
        job = script.plan(model, seed=1, images=budget)
        spec = ganzoo.get_model(model)
        config = resolve_config(spec, overrides=[*job.overrides, f"data.dataset={job.dataset}"])
        assert config.train.seed == 1 and config.model.image_size == 32
        assert config.train.lr_g == spec.train_defaults["lr_g"]  # the paper's settings otherwise
        seen[model] = (job.protocol, job.steps * config.train.batch_size * config.train.n_critic)
        assert job.steps % script.CURVE_POINTS == 0
    assert seen["dcgan"] == seen["wgan-gp"] == ("digits", 3840)  # wgan-gp: 12 steps of 5 critic batches of 64
    assert seen["pix2pix"] == ("shapes-paired", 192) and seen["cyclegan"] == ("shapes-unpaired", 192)
    jobs = script.eligible_jobs(["dcgan", "cyclegan", "no-such-model"], 2, budget)
    assert [job.name for job in jobs][:2] == ["cyclegan-seed0", "cyclegan-seed1"]  # the longest runs start first
    assert {job.model for job in jobs} == {"dcgan", "cyclegan"}  # what cannot be configured is skipped


def test_infogan_and_lapgan_are_on_the_digits_board_with_the_same_budget(script):
    assert {"infogan", "lapgan"} <= set(script.official_models())
    assert "lapgan-cc" not in script.official_models() and "lapgan-cc" in script.official_models(every_variant=True)
    for model in ("infogan", "lapgan", "lapgan-cc"):
        job = script.plan(model, seed=0, images=script.BUDGET_IMAGES)
        config = resolve_config(ganzoo.get_model(model), overrides=[*job.overrides, f"data.dataset={job.dataset}"])
        assert job.protocol == "digits" and (config.model.image_size, config.model.channels) == (32, 1)
        assert job.steps * config.train.batch_size * config.train.n_critic == script.BUDGET_IMAGES["digits"]
        assert "model.levels=3" in job.overrides if model.startswith("lapgan") else "model.ngf=32" in job.overrides


def test_checks_compare_with_the_untrained_model_and_the_best(script):
    with tempfile.TemporaryDirectory() as folder:
        board = Leaderboard(Path(folder) / "b.sqlite")
        for model, final in (("good", 10.0), ("stuck", 280.0), ("far", 50.0)):
            for seed in range(3):
                board.record(seeded_result(model, seed, 0, 300.0))
                board.record(seeded_result(model, seed, 200, final))
        lines = script.checks(board.entries())
    verdicts = {line.split(" | ")[1]: line.split(" | ")[-1].rstrip(" |") for line in lines[2:]}
    assert verdicts == {"good": "ok", "far": "more than 3x the best FID",
                        "stuck": "does not beat its untrained baseline"}


def test_partial_regenerations_merge_into_one_board_each_result_once(script, tmp_path):
    first, second, target = (tmp_path / f"{name}.sqlite" for name in ("first", "second", "target"))
    Leaderboard(first).record(seeded_result("dcgan", 0, 200, 10.0))
    Leaderboard(second).record(seeded_result("sagan", 0, 200, 20.0))
    Leaderboard(second).record(seeded_result("dcgan", 0, 200, 10.0))  # the same run recorded by both
    assert script.merge_boards(target, [first, second]) == 2  # into a new file
    assert sorted(entry.model for entry in Leaderboard(target).entries()) == ["dcgan", "sagan"]
    Leaderboard(second).record(seeded_result("ppgn", 1, 200, 30.0))
    assert script.merge_boards(target, [first, second]) == 1  # into an existing board: only what is new
    assert sorted(entry.model for entry in Leaderboard(target).entries()) == ["dcgan", "ppgn", "sagan"]
    assert Leaderboard(target).integrity_ok()
