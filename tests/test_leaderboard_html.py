"""The leaderboard page in a real headless Chromium: clicking a header sorts, typing filters."""

from __future__ import annotations

import re
import shutil
import subprocess

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
