"""The leaderboard database: an append-only SQLite file of benchmark results with their provenance.

* Concurrency: WAL journal, a generous busy timeout and one ``BEGIN IMMEDIATE`` transaction per insert, so
  several processes can record at once without corrupting the file or losing rows.
* Append-only: triggers abort any UPDATE or DELETE; this module has no path that changes a row.
* One checkpoint is one entry per protocol: metrics recorded later for the same checkpoint and protocol
  join its entry (rows are merged when read); recording a metric it already has raises
  :class:`DuplicateResultError` naming the existing entry.
* Only fair results: a run whose training data overlaps the protocol's reference images is refused
  (:class:`~ganzoo.metrics.result.IneligibleResultError`).
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ganzoo.metrics.result import BenchResult, IneligibleResultError

DB_ENV = "GANZOO_LEADERBOARD_DB"
BUSY_TIMEOUT_MS = 60_000
SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    model TEXT NOT NULL,
    task TEXT NOT NULL,
    plugin TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    ganzoo_version TEXT NOT NULL,
    dataset TEXT NOT NULL,
    protocol_name TEXT NOT NULL,
    protocol_hash TEXT NOT NULL,
    protocol_json TEXT NOT NULL,
    metric_set TEXT NOT NULL,
    metrics_json TEXT NOT NULL,
    num_samples INTEGER NOT NULL,
    reference_size INTEGER,
    config_json TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    checkpoint_hash TEXT NOT NULL,
    checkpoint_path TEXT,
    run_dir TEXT,
    train_steps INTEGER,
    train_seconds REAL,
    eval_seconds REAL,
    hardware_json TEXT NOT NULL,
    sample_png BLOB,
    loss TEXT,
    loss_plugin TEXT,
    UNIQUE (checkpoint_hash, protocol_hash, metric_set)
);
CREATE INDEX IF NOT EXISTS results_by_protocol ON results (protocol_hash);
CREATE TRIGGER IF NOT EXISTS results_append_only_update BEFORE UPDATE ON results
BEGIN SELECT RAISE(ABORT, 'the leaderboard is append-only: results cannot be changed'); END;
CREATE TRIGGER IF NOT EXISTS results_append_only_delete BEFORE DELETE ON results
BEGIN SELECT RAISE(ABORT, 'the leaderboard is append-only: results cannot be deleted'); END;
"""

_JSON_COLUMNS = {"protocol_json": "protocol", "metrics_json": "metrics", "config_json": "config",
                 "hardware_json": "hardware"}
_PLAIN_COLUMNS = ("recorded_at", "model", "task", "plugin", "plugin_version", "ganzoo_version", "dataset",
                  "protocol_name", "protocol_hash", "num_samples", "reference_size", "config_hash",
                  "checkpoint_hash", "checkpoint_path", "run_dir", "train_steps", "train_seconds", "eval_seconds",
                  "loss", "loss_plugin")
_ADDED_COLUMNS = {2: ("loss TEXT", "loss_plugin TEXT")}
"""Columns each schema version added (files written by older versions get them by ALTER TABLE)."""


# pseudo-metrics that come with every paired-translation result (L1/PSNR/SSIM) and every class-conditional one
# (intra-FID, class accuracy); they never make a clash
_COMPANION_METRICS = {"paired", "conditional"}


class LeaderboardError(ValueError):
    """A leaderboard file that cannot be used (not SQLite, a directory, not writable); the message names it."""


class DuplicateResultError(ValueError):
    """The same checkpoint already has one of these metrics recorded under the same protocol."""


def _clashing(recorded: Sequence[str], new: Sequence[str]) -> set[str]:
    return (set(recorded) & set(new)) - _COMPANION_METRICS


def default_db_path() -> Path:
    """``$GANZOO_LEADERBOARD_DB``, else ``$XDG_DATA_HOME/ganzoo/leaderboard.sqlite`` (``~/.local/share``)."""
    if os.environ.get(DB_ENV):
        return Path(os.environ[DB_ENV])
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(Path.home(), ".local", "share")
    return Path(data_home) / "ganzoo" / "leaderboard.sqlite"


class Entry(BenchResult):
    """One recorded result as read back: a :class:`~ganzoo.metrics.result.BenchResult` with its row id."""

    id: int

    def as_dict(self, with_sample: bool = False) -> dict[str, Any]:
        """JSON-ready dict (the base64 sample grid only when asked)."""
        return self.model_dump(mode="json", exclude=None if with_sample else {"sample_png_base64"})


class Leaderboard:
    """Access to one leaderboard file; every call opens its own short-lived connection (process-safe)."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else default_db_path()

    @contextmanager
    def _connection(self, read: bool = False) -> Iterator[sqlite3.Connection]:
        """A connection with the schema in place; SQLite's errors become :class:`LeaderboardError` naming the file.

        ``read``: a file that cannot be written (read-only folder or file system) is opened read-only instead."""
        if self.path.is_dir():
            raise LeaderboardError(f"leaderboard {self.path} is a directory, not a SQLite file; give a file path (--db)")
        try:
            connection = self._connect()
        except sqlite3.OperationalError as exc:
            if not (read and self.path.is_file()):
                raise self._error(exc) from None
            connection = self._connect_read_only()
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None
        try:
            yield connection
        except sqlite3.DatabaseError as exc:
            raise self._error(exc) from None
        finally:
            connection.close()

    def _error(self, exc: sqlite3.DatabaseError) -> LeaderboardError:
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            what = "is not a ganzoo leaderboard (not an SQLite database, or a damaged one); give another --db"
        elif "readonly" in text or _read_only_place(self.path):
            what = "is read-only: results cannot be recorded there (reading it works)"
        elif "unable to open" in text:
            what = "cannot be opened (is its folder writable?)"
        else:
            what = f"cannot be used: {text}"
        return LeaderboardError(f"leaderboard {self.path} {what}")

    def _connect_read_only(self) -> sqlite3.Connection:
        """Read a file this process cannot write: ``mode=ro``, or ``immutable`` where WAL files cannot be made."""
        uri = self.path.resolve().as_uri()
        for flags in ("mode=ro", "immutable=1"):
            connection = sqlite3.connect(f"{uri}?{flags}", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
            try:
                connection.execute("SELECT count(*) FROM results").fetchone()
                return connection
            except sqlite3.DatabaseError as exc:
                connection.close()
                if flags == "immutable=1" or "not a database" in str(exc):
                    raise self._error(exc) from None
        raise AssertionError("unreachable")

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LeaderboardError(f"cannot create the folder of leaderboard {self.path}: {exc.strerror or exc}") from None
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        if connection.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            # immediate transactions, so concurrent first users create (or upgrade) the schema exactly once
            connection.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
            connection.execute("BEGIN IMMEDIATE")
            present = {row[1] for row in connection.execute("PRAGMA table_info(results)")}
            for column in (c for columns in _ADDED_COLUMNS.values() for c in columns):
                if column.split()[0] not in present:  # a file written before this column existed
                    connection.execute(f"ALTER TABLE results ADD COLUMN {column}")
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute("COMMIT")
        return connection

    def check_writable(self) -> None:
        """Raise :class:`LeaderboardError` now if results cannot be recorded in this file (creating it if needed)."""
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")

    def record(self, result: BenchResult | Mapping[str, Any]) -> int:
        """Append one result (a :class:`~ganzoo.metrics.result.BenchResult` or its dict); returns its id."""
        result = result if isinstance(result, BenchResult) else BenchResult(**result)
        result.check_eligible()
        data = result.model_dump()
        row = {key: data[key] for key in _PLAIN_COLUMNS}
        row.update({column: _dumps(data[field]) for column, field in _JSON_COLUMNS.items()})
        row.update(metric_set=result.metric_key, sample_png=result.sample_png())
        columns = ", ".join(row)
        placeholders = ", ".join(f":{key}" for key in row)
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                recorded = connection.execute(
                    "SELECT metric_set FROM results WHERE checkpoint_hash = ? AND protocol_hash = ?",
                    (result.checkpoint_hash, result.protocol_hash),
                ).fetchall()
                if any(_clashing(metric_set.split(","), result.metric_set) for (metric_set,) in recorded):
                    raise sqlite3.IntegrityError("UNIQUE: metric already recorded for this checkpoint and protocol")
                cursor = connection.execute(f"INSERT INTO results ({columns}) VALUES ({placeholders})", row)
                connection.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                connection.execute("ROLLBACK")
                if "UNIQUE" not in str(exc):
                    raise
                existing = self.find(result.checkpoint_hash, result.protocol_hash, result.metric_set)
                if existing is None:
                    raise
                raise self.duplicate_error(existing, result.metric_set) from None
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
            return int(cursor.lastrowid)

    def duplicate_error(self, existing: Entry, metric_set: Sequence[str] = ()) -> DuplicateResultError:
        """The error for recording metrics ``existing`` already has (``metric_set``: the new ones)."""
        again = ",".join(sorted(_clashing(existing.metric_set, metric_set))) or existing.metric_key
        return DuplicateResultError(
            f"already on the leaderboard {self.path} as entry #{existing.id} (recorded {existing.recorded_at}): "
            f"checkpoint {existing.checkpoint_hash[:16]} of {existing.model} under protocol {existing.protocol_name} "
            f"({existing.protocol_hash}) with metrics {existing.metric_key}; {again} cannot be recorded again "
            "(results are append-only and recorded once; other metrics join the entry)"
        )

    def find(self, checkpoint_hash: str, protocol_hash: str, metric_set: Sequence[str] = ()) -> Entry | None:
        """The entry of this checkpoint under this protocol if it exists and (when given) has one of ``metric_set``."""
        if not self.path.exists():
            return None
        with self._connection(read=True) as connection:
            connection.row_factory = sqlite3.Row
            rows = connection.execute(
                "SELECT * FROM results WHERE checkpoint_hash = ? AND protocol_hash = ? ORDER BY id",
                (checkpoint_hash, protocol_hash),
            ).fetchall()
        if not rows:
            return None
        [entry] = merge_entries([_entry(row) for row in rows])
        return entry if not metric_set or _clashing(entry.metric_set, metric_set) else None

    def entries(self, dataset: str | None = None, protocol: str | None = None) -> list[Entry]:
        """Recorded results, oldest first, optionally of one dataset and one protocol (name or hash prefix)."""
        if not self.path.exists():
            return []
        query, params = "SELECT * FROM results WHERE 1=1", []
        if dataset:
            query += " AND dataset = ?"
            params.append(dataset)
        if protocol:
            query += " AND (protocol_name = ? OR protocol_hash LIKE ? ESCAPE '\\')"
            params.extend([protocol, _like_literal(protocol) + "%"])
        with self._connection(read=True) as connection:
            connection.row_factory = sqlite3.Row
            rows = connection.execute(query + " ORDER BY id", params).fetchall()
        return merge_entries([_entry(row) for row in rows])

    def integrity_ok(self) -> bool:
        """SQLite's own integrity check of the file."""
        with self._connection(read=True) as connection:
            return connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _read_only_place(path: Path) -> bool:
    """True when ``path``'s folder is on a read-only file system or cannot be written by this process."""
    folder = path.parent if path.parent.exists() else Path(".")
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY) or not os.access(folder, os.W_OK)
    except OSError:
        return False


def _like_literal(text: str) -> str:
    """``text`` for a LIKE pattern matching itself only (``%`` and ``_`` are wildcards otherwise)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _entry(row: sqlite3.Row) -> Entry:
    present = set(row.keys())  # columns added in later schema versions may be missing from old files
    data: dict[str, Any] = {key: row[key] for key in ("id", *_PLAIN_COLUMNS) if key in present}
    data.update({field: json.loads(row[column]) for column, field in _JSON_COLUMNS.items()})
    data["metric_set"] = row["metric_set"].split(",")
    png = row["sample_png"]
    data["sample_png_base64"] = base64.b64encode(png).decode("ascii") if png else None
    return Entry(**data)


def merge_entries(entries: Sequence[Entry]) -> list[Entry]:
    """One entry per (checkpoint, protocol): rows recorded later add their metrics to the first row's entry."""
    merged: dict[tuple[str, str], Entry] = {}
    for entry in entries:
        key = (entry.checkpoint_hash, entry.protocol_hash)
        first = merged.get(key)
        if first is None:
            merged[key] = entry
            continue
        metric_set = sorted(set(first.metric_set) | set(entry.metric_set))
        merged[key] = first.model_copy(update={
            "metric_set": metric_set, "metrics": {**first.metrics, **entry.metrics},
            "sample_png_base64": first.sample_png_base64 or entry.sample_png_base64,
        })
    return list(merged.values())


def iter_protocol_groups(entries: list[Entry]) -> Iterator[tuple[str, list[Entry]]]:
    """Entries grouped by protocol hash, in order of first appearance."""
    groups: dict[str, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(entry.protocol_hash, []).append(entry)
    yield from groups.items()

