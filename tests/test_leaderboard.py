"""The leaderboard store (append-only, unique, concurrent) and its views."""

from __future__ import annotations

import base64
import csv
import io
import json
import multiprocessing
import re
import sqlite3

import pytest

from ganzoo.leaderboard import DuplicateResultError, Leaderboard, render
from ganzoo.leaderboard.render import ranked

PNG = bytes.fromhex(  # a valid 1x1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201a5d6a1f50000000049454e44ae426082"
)


def fake_result(model: str = "dcgan", checkpoint: str = "c0", protocol_hash: str = "p" * 16, fid: float = 10.0,
                metric_set=("fid", "kid"), protocol_name: str = "digits", dataset: str = "digits") -> dict:
    """A result as ganzoo.metrics.result.BenchResult.model_dump() produces it (no torch needed)."""
    return {
        "model": model, "task": "unconditional", "plugin": f"ganzoo-plugin-{model}", "plugin_version": "0.1.0",
        "ganzoo_version": "0.1.0", "dataset": dataset, "protocol_name": protocol_name,
        "protocol_hash": protocol_hash,
        "protocol": {"name": protocol_name, "dataset": dataset, "split": "test", "image_size": 32,
                     "num_samples": 1000, "task": "noise-to-image", "feature_extractor": "ganzoo-digits-cnn",
                     "weights_sha256": "ab" * 32, "seed": 0},
        "metric_set": list(metric_set), "metrics": {"fid": fid, "kid": fid / 1000},
        "num_samples": 1000, "reference_size": 360, "config": {"model": {"ngf": 8}}, "config_hash": "f" * 16,
        "checkpoint_hash": checkpoint, "checkpoint_path": None, "run_dir": f"runs/{model}", "train_steps": 100,
        "train_seconds": 61.0, "hardware": {"device": "cpu"}, "eval_seconds": 2.0,
        "recorded_at": "2026-01-01T00:00:00+00:00", "sample_png_base64": base64.b64encode(PNG).decode(),
    }


@pytest.fixture
def board(tmp_path) -> Leaderboard:
    return Leaderboard(tmp_path / "sub" / "board.sqlite")


def test_records_read_back_with_provenance(board):
    entry_id = board.record(fake_result())
    [entry] = board.entries()
    assert entry.id == entry_id and entry.model == "dcgan" and entry.metrics == {"fid": 10.0, "kid": 0.01}
    assert entry.protocol["feature_extractor"] == "ganzoo-digits-cnn" and entry.config == {"model": {"ngf": 8}}
    assert entry.sample_png() == PNG and entry.train_steps == 100 and entry.hardware == {"device": "cpu"}
    assert board.integrity_ok()
    with sqlite3.connect(board.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_result_cannot_be_recorded_twice(board):
    board.record(fake_result())
    with pytest.raises(DuplicateResultError, match=r"entry #1 .*recorded once"):
        board.record(fake_result(fid=9.0))
    with pytest.raises(DuplicateResultError, match=r"entry #1 .*fid cannot be recorded again"):
        board.record(fake_result(metric_set=("fid",)))  # a metric the entry already has
    board.record(fake_result(protocol_hash="q" * 16))  # another protocol is another entry
    assert len(board.entries()) == 2


def test_rows_can_be_neither_changed_nor_deleted(board):
    board.record(fake_result())
    with sqlite3.connect(board.path) as connection:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("UPDATE results SET model = 'other'")
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            connection.execute("DELETE FROM results")
    assert [e.model for e in board.entries()] == ["dcgan"]


def _write_many(path: str, worker: int, count: int) -> None:
    board = Leaderboard(path)
    for index in range(count):
        board.record(fake_result(model=f"m{worker}", checkpoint=f"w{worker}-{index}", fid=float(index)))


def _write_same(path: str) -> str:
    try:
        Leaderboard(path).record(fake_result(checkpoint="shared"))
        return "recorded"
    except DuplicateResultError:
        return "duplicate"


def test_concurrent_writers_lose_nothing_and_never_duplicate(tmp_path):
    path = str(tmp_path / "board.sqlite")
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_many, args=(path, worker, 10)) for worker in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    assert [process.exitcode for process in workers] == [0, 0, 0, 0]
    with context.Pool(4) as pool:
        outcomes = pool.map(_write_same, [path] * 4)
    assert sorted(outcomes) == ["duplicate"] * 3 + ["recorded"]
    board = Leaderboard(path)
    entries = board.entries()
    assert len(entries) == 41 and len({e.checkpoint_hash for e in entries}) == 41
    assert board.integrity_ok()


def test_results_are_ranked_only_within_their_protocol(board):
    board.record(fake_result("dcgan", "a", fid=30.0))
    board.record(fake_result("wgan-gp", "b", fid=20.0))
    board.record(fake_result("other", "c", fid=5.0, protocol_hash="q" * 16, protocol_name="shapes", dataset="shapes"))
    entries = board.entries()
    digits = [e for e in entries if e.protocol_hash == "p" * 16]
    assert [e.model for e in ranked(digits)] == ["wgan-gp", "dcgan"]
    table = render(entries, "table")
    assert table.index("wgan-gp") < table.index("dcgan") < table.index("shapes (")
    assert [e.model for e in board.entries(dataset="shapes")] == ["other"]
    assert [e.model for e in board.entries(protocol="qqqq")] == ["other"]
    assert [e.model for e in board.entries(protocol="digits")] == ["dcgan", "wgan-gp"]


def test_markdown_csv_and_json_views(board):
    board.record(fake_result("dcgan", "a", fid=30.0))
    board.record(fake_result("wgan-gp", "b", fid=20.0))
    entries = board.entries()
    markdown = render(entries, "markdown")
    assert "### digits `pppppppppppppppp`" in markdown
    assert re.search(r"^\| 1 \| wgan-gp \| 20 \|", markdown, re.M)
    rows = list(csv.DictReader(io.StringIO(render(entries, "csv"))))
    assert [(r["rank"], r["model"], float(r["fid"])) for r in rows] == [("1", "wgan-gp", 20.0), ("2", "dcgan", 30.0)]
    groups = json.loads(render(entries, "json"))
    assert groups[0]["protocol_hash"] == "p" * 16
    assert [e["model"] for e in groups[0]["entries"]] == ["wgan-gp", "dcgan"]
    with pytest.raises(ValueError, match="allowed: table, markdown, csv, json, html"):
        render(entries, "pdf")


def test_markdown_escapes_recorded_html(board):
    board.record(fake_result("<img src=x onerror=alert(1)>", "a", protocol_name="<b>p</b>"))
    markdown = render(board.entries(), "markdown")
    assert "<img" not in markdown and "<b>" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown and "### &lt;b&gt;p&lt;/b&gt;" in markdown


@pytest.mark.parametrize("pattern", ["%", "_", "p%", "p_", "\\"])
def test_protocol_filter_wildcards_are_literal(board, pattern):
    board.record(fake_result("dcgan", "a"))
    assert board.entries(protocol=pattern) == []
    assert [e.model for e in board.entries(protocol="pp")] == ["dcgan"]


def test_html_page_is_self_contained(board):
    board.record(fake_result("dcgan", "a", fid=30.0))
    page = render(board.entries(), "html")
    assert "data:image/png;base64," in page and "<details>" in page and 'id="filter"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # nothing loaded from elsewhere
    assert "{{" not in page


def test_seeds_of_one_recipe_are_one_row_ranked_on_their_mean(board):
    def seeded(model, seed, fid, steps=200, ngf=8):
        result = fake_result(model, f"{model}-{ngf}-{seed}-{steps}", fid=fid)
        result["config"] = {"model": {"ngf": ngf}, "train": {"seed": seed, "batch_size": 64, "n_critic": 5}}
        result["train_steps"] = steps
        return result

    for seed, fid in enumerate((10.0, 20.0, 30.0)):  # mean 20: best single seed, worse mean
        board.record(seeded("lucky", seed, fid))
    for seed, fid in enumerate((14.0, 15.0, 16.0)):  # mean 15
        board.record(seeded("steady", seed, fid))
        board.record(seeded("steady", seed, 90.0, steps=100))  # an earlier step: a curve point, not a row
    board.record(seeded("steady", 0, 50.0, ngf=4))  # another recipe of the same model: its own row
    markdown = render(board.entries(), "markdown")
    table = [line for line in markdown.splitlines() if re.match(r"^\| \d", line)]
    assert [line.split(" | ")[1] for line in table] == ["steady", "lucky", "steady"]
    assert table[0].startswith("| 1 | steady | 15 ± 1 |") and table[1].startswith("| 2 | lucky | 20 ± 10 |")
    assert "| 3 | 200 | 64k |" in table[0]  # seeds, steps, images seen (200 x 64 x 5)
    assert "| 50 |" in table[2] and "| 1 | 200 |" in table[2]
