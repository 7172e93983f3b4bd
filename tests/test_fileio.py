"""Atomic writes: readers see the old file or the new one, never a torn one, with normal permissions."""

from __future__ import annotations

import os
import stat

import pytest

from ganzoo import fileio


def test_atomic_write_replaces_content_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "result.txt"
    fileio.atomic_write_text(target, "first")
    fileio.atomic_write_text(target, "second")
    assert target.read_text() == "second"
    assert sorted(p.name for p in target.parent.iterdir()) == ["result.txt"]


def test_atomic_write_uses_the_umask_like_open_does(tmp_path):
    old = os.umask(0o022)
    try:
        path = fileio.atomic_write_bytes(tmp_path / "page.html", b"<html></html>")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_failed_write_keeps_the_previous_file(tmp_path, monkeypatch):
    target = tmp_path / "checkpoint.json"
    fileio.atomic_write_text(target, "good")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(fileio.os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        fileio.atomic_write_text(target, "torn")
    assert target.read_text() == "good"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.json"]
