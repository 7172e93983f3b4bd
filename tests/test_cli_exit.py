"""The console script: collector thresholds for the command, frozen after it, and nothing is lost by either."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Iterator

import pytest

import ganzoo.cli
from ganzoo.cli import console_main, main


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Each test starts and ends with nothing frozen, so no other test runs with a frozen collector."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_console_main_returns_the_status_of_main_and_freezes_the_collector(
    unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ganzoo.cli, "main", lambda: 3)
    assert console_main() == 3
    assert gc.get_freeze_count() > 0


def test_console_main_freezes_even_when_the_command_exits_early(
    unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["ganzoo", "--version"])
    with pytest.raises(SystemExit):
        console_main()
    assert gc.get_freeze_count() > 0


def test_main_in_process_leaves_the_collector_alone(unfrozen: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "--json"]) == 0
    assert gc.get_freeze_count() == 0
    assert "dcgan" in capsys.readouterr().out


def test_both_ways_of_starting_the_command_line_go_through_console_main() -> None:
    scripts = [point for point in entry_points(group="console_scripts") if point.name == "ganzoo"]
    assert [point.value for point in scripts] == ["ganzoo.cli:console_main"]
    module_main = Path(ganzoo.cli.__file__).parent.parent / "__main__.py"
    assert "sys.exit(console_main())" in module_main.read_text()


def test_a_frozen_exit_still_flushes_every_byte_and_writes_every_file(tmp_path: Path) -> None:
    """Output through a pipe (block-buffered) and a new plugin's files survive the frozen shutdown."""
    listed = subprocess.run([sys.executable, "-m", "ganzoo", "list", "--json"], capture_output=True, text=True,
                            timeout=300, check=True)
    names = {row["name"] for row in json.loads(listed.stdout)}
    assert {"dcgan", "wgan-gp", "pix2pix"} <= names
    created = subprocess.run([sys.executable, "-m", "ganzoo", "new-plugin", "exit-check", "--dir", str(tmp_path / "plugin")],
                             capture_output=True, text=True, timeout=300)
    assert created.returncode == 0, created.stderr
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.name == "pyproject.toml" for path in written)
    assert all(path.stat().st_size > 0 for path in written if path.suffix in {".py", ".toml"})


def test_the_command_runs_with_the_command_line_thresholds_and_restores_them(
    unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, ...]] = []
    monkeypatch.setattr(ganzoo.cli, "main", lambda: seen.append(gc.get_threshold()) or 0)
    before = gc.get_threshold()
    assert console_main() == 0
    assert seen == [ganzoo.cli.COMMAND_LINE_GC_THRESHOLDS]
    assert gc.get_threshold() == before
