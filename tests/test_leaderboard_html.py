"""The leaderboard page in a real headless Chromium: clicking a header sorts, typing filters."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from ganzoo.leaderboard import Leaderboard, render

from .test_leaderboard import fake_result

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)),
                None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("page")
    board = Leaderboard(folder / "board.sqlite")
    for model, fid, steps in (("bravo", 30.0, 300), ("alpha", 20.0, 100), ("delta", 40.0, 200), ("charlie", 10.0, 400)):
        result = fake_result(model, f"ckpt-{model}", fid=fid)
        result["train_steps"] = steps
        board.record(result)
    path = folder / "leaderboard.html"
    path.write_text(render(board.entries(), "html"), encoding="utf-8")
    return path


def dump_dom(url: str, profile) -> str:
    """The DOM after the page's scripts ran (the hash makes the page click headers / fill the filter)."""
    command = [
        CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
        f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def visible_models(dom: str) -> list[str]:
    rows = re.findall(r'<tr data-model="([^"]+)"( style="display: none;")?', dom)
    return [model for model, hidden in rows if not hidden]


def header_state(dom: str, key: str) -> str | None:
    match = re.search(rf'<th[^>]*data-key="{key}"[^>]*>', dom)
    assert match, key
    found = re.search(r'aria-sort="(\w+)"', match.group(0))
    return found.group(1) if found else None


def test_clicking_headers_sorts_rows(page, tmp_path):
    url = page.as_uri()
    assert visible_models(dump_dom(url, tmp_path / "p0")) == ["charlie", "alpha", "bravo", "delta"]  # ranked by FID
    by_model = dump_dom(url + "#sort=model", tmp_path / "p1")
    assert visible_models(by_model) == ["alpha", "bravo", "charlie", "delta"]
    assert header_state(by_model, "model") == "ascending"
    by_fid_descending = dump_dom(url + "#sort=-fid", tmp_path / "p2")  # two clicks
    assert visible_models(by_fid_descending) == ["delta", "bravo", "alpha", "charlie"]
    assert header_state(by_fid_descending, "fid") == "descending"
    by_steps = dump_dom(url + "#sort=steps", tmp_path / "p3")
    assert visible_models(by_steps) == ["alpha", "delta", "bravo", "charlie"]


def test_filter_box_hides_other_rows(page, tmp_path):
    dom = dump_dom(page.as_uri() + "#filter=ALPHA", tmp_path / "p")
    assert visible_models(dom) == ["alpha"]


def seeded_result(model: str, seed: int, step: int, fid: float) -> dict:
    """A result of ``model`` trained with ``seed`` for ``step`` steps (same recipe for every seed)."""
    result = fake_result(model, f"{model}-s{seed}-t{step}", fid=fid)
    result["metrics"] = {"fid": fid, "kid": fid / 1000, "isc": 2.0 + step / 100}
    result["config"] = {"model": {"ngf": 8}, "train": {"seed": seed, "batch_size": 64, "n_critic": 1, "steps": 200}}
    result["train_steps"] = step
    return result


@pytest.fixture(scope="module")
def curves_page(tmp_path_factory):
    """Two models, three seeds each, benchmarked untrained, half way and at the end."""
    folder = tmp_path_factory.mktemp("curves")
    board = Leaderboard(folder / "board.sqlite")
    for model, final in (("slow", 40.0), ("fast", 10.0)):
        for seed in range(3):
            for step, fid in ((0, 300.0), (100, (300.0 + final) / 2), (200, final + seed)):
                board.record(seeded_result(model, seed, step, fid))
    path = folder / "leaderboard.html"
    path.write_text(render(board.entries(), "html"), encoding="utf-8")
    return path


def test_seeds_are_one_row_with_mean_and_std_ranked_on_the_mean(curves_page, tmp_path):
    dom = dump_dom(curves_page.as_uri(), tmp_path / "p")
    assert visible_models(dom) == ["fast", "slow"]  # one row per recipe, best mean first
    row = re.search(r'<tr data-model="fast">(.*?)</tr>', dom, re.S).group(1)
    assert "11 ± 1" in row  # FID 10, 11, 12 over the seeds at the final step


def test_learning_curves_are_drawn(curves_page, tmp_path):
    dom = dump_dom(curves_page.as_uri(), tmp_path / "p")
    panels = re.findall(r'<g class="panel" data-metric="(\w+)"', dom)
    assert panels == ["fid", "kid", "isc"]
    curves = re.findall(r'<polyline class="curve" data-model="(\w+)" points="([^"]+)"', dom)
    assert [model for model, _ in curves] == ["fast", "slow"] * 3
    fid_fast = [tuple(map(float, point.split(","))) for point in curves[0][1].split()]
    assert len(fid_fast) == 3  # step 0, 100 and 200
    xs, ys = zip(*fid_fast)
    assert xs[0] < xs[1] < xs[2] and ys[0] < ys[1] < ys[2]  # more images to the right; falling FID goes down (SVG y)
    assert "fast, step 200 (12.8k images): FID 11 ± 1 over 3 seed(s)" in dom


def test_learning_curves_render_on_screen(curves_page, tmp_path):
    """Chromium paints the curves: the first series' colour is on the screenshot, inside the figure."""
    from PIL import Image

    from ganzoo.leaderboard.plots import PALETTE

    shot = tmp_path / "page.png"
    command = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
               f"--user-data-dir={tmp_path / 'p'}", "--window-size=1200,2400", "--hide-scrollbars",
               f"--screenshot={shot}", curves_page.as_uri()]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and shot.is_file(), done.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB"))
    colour = [int(PALETTE[0][i:i + 2], 16) for i in (1, 3, 5)]
    found = int((pixels == colour).all(axis=-1).sum())
    assert found > 200  # three polylines of two-pixel width, points and the legend swatch
