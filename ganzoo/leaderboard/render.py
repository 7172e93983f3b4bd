"""Leaderboard views: text table, Markdown, CSV, JSON and one self-contained HTML page.

Results are ranked only within their protocol (same protocol hash): by FID when present, else KID,
else Inception Score (higher is better).  Table, Markdown and HTML show one row per series (one recipe,
its seeds as mean ± std, ranked on the mean, at its furthest-trained step; see
:mod:`ganzoo.leaderboard.series`), and the HTML page draws each series' learning curves; CSV and JSON
list every entry.
"""

from __future__ import annotations

import csv
import html
import io
import json
from importlib import resources
from typing import Any, Callable, Sequence

from ganzoo.leaderboard.plots import curves_svg
from ganzoo.leaderboard.series import Series, build_series, images_seen
from ganzoo.leaderboard.store import Entry, iter_protocol_groups

FORMATS = ("table", "markdown", "csv", "json", "html")
# (key, header, lower is better) in display order; columns without any value in a group are left out
METRIC_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("fid", "FID", True),
    ("kid", "KID", True),
    ("isc", "IS", False),
    ("precision", "precision", False),
    ("recall", "recall", False),
    ("l1", "L1", True),
    ("psnr", "PSNR", False),
    ("ssim", "SSIM", False),
    ("intra_fid", "intra-FID", True),
    ("class_accuracy", "class acc.", False),
)


def ranked(entries: Sequence[Entry]) -> list[Entry]:
    """One protocol's entries, best first (FID, else KID ascending, else IS descending; missing last)."""
    for key, _, lower_better in METRIC_COLUMNS[:3]:
        if any(key in entry.metrics for entry in entries):
            sign = 1.0 if lower_better else -1.0
            return sorted(entries, key=lambda e: (key not in e.metrics, sign * e.metrics.get(key, 0.0), e.id))
    return list(entries)


def metric_columns(entries: Sequence[Entry]) -> list[tuple[str, str, bool]]:
    """The metric columns that have a value in at least one entry."""
    return [column for column in METRIC_COLUMNS if any(column[0] in e.metrics for e in entries)]


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def protocol_caption(entry: Entry) -> str:
    """``digits (hash): digits/test, 1000 samples, ganzoo-digits-cnn``."""
    p = entry.protocol
    return (f"{entry.protocol_name} ({entry.protocol_hash}): {p.get('dataset')}/{p.get('split')} "
            f"{p.get('image_size')}px, {entry.num_samples} samples, {p.get('task')}, {p.get('feature_extractor')} "
            f"[{str(p.get('weights_sha256') or '')[:12]}], seed {p.get('seed')}")


def ranked_series(entries: Sequence[Entry]) -> list[Series]:
    """One protocol's series, best mean first (FID, else KID ascending, else IS descending; missing last)."""
    series = build_series(entries)
    for key, _, lower_better in METRIC_COLUMNS[:3]:
        if any(s.final.mean(key) is not None for s in series):
            sign = 1.0 if lower_better else -1.0
            return sorted(series, key=lambda s: (s.final.mean(key) is None, sign * (s.final.mean(key) or 0.0),
                                                 s.first.id))
    return series


def _spread(series: Series, key: str) -> str:
    mean, std = series.summary(key)
    if mean is None:
        return ""
    return _number(mean) if std is None else f"{_number(mean)} ± {std:.2g}"


def _mean_seconds(series: Series) -> float | None:
    seconds = [e.train_seconds for e in series.final.entries if e.train_seconds is not None]
    return sum(seconds) / len(seconds) if seconds else None


def _images(series: Series) -> str:
    images = images_seen(series.first)
    return "" if images is None else f"{images / 1000:.4g}k"


def loss_label(entry: Entry) -> str:
    """``hinge``, or ``rsgan (ganzoo-plugin-rsgan)`` for a loss a plugin provided (older entries: from the config)."""
    name = entry.loss or str((entry.config.get("train") or {}).get("loss") or "")
    return f"{name} ({entry.loss_plugin})" if entry.loss_plugin and entry.loss_plugin != "ganzoo" else name


def rows(entries: Sequence[Entry]) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of one protocol's ranked table (one row per series)."""
    ordered = ranked_series(entries)
    columns = metric_columns(entries)
    header = ["#", "model", *(title for _, title, _ in columns), "seeds", "steps", "images", "train time", "loss",
              "plugin", "checkpoint", "recorded"]
    body = []
    for rank, series in enumerate(ordered, 1):
        first = series.first
        body.append([
            str(rank), series.model, *(_spread(series, key) for key, _, _ in columns), str(len(series.final.entries)),
            "" if first.train_steps is None else str(first.train_steps), _images(series),
            _duration(_mean_seconds(series)), loss_label(first), f"{first.plugin} {first.plugin_version}",
            ",".join(e.checkpoint_hash[:12] for e in series.final.entries), first.recorded_at[:19],
        ])
    return header, body


def render_table(entries: Sequence[Entry]) -> str:
    """Aligned plain-text tables, one per protocol."""
    out = []
    for _, group in iter_protocol_groups(list(entries)):
        header, body = rows(group)
        widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
        fmt = lambda line: "  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip()  # noqa: E731
        out.append("\n".join([protocol_caption(group[0]), fmt(header), fmt(["-" * w for w in widths]),
                              *map(fmt, body)]))
    return "\n\n".join(out) + "\n" if out else "the leaderboard is empty\n"


def _markdown_text(text: str) -> str:
    """Recorded text as literal Markdown: HTML is escaped (renderers pass raw HTML through), pipes split no cell."""
    return html.escape(text, quote=False).replace("|", "\\|")


def render_markdown(entries: Sequence[Entry]) -> str:
    """GitHub Markdown: a heading and a table per protocol."""
    out = []
    for _, group in iter_protocol_groups(list(entries)):
        header, body = rows(group)
        lines = [f"### {_markdown_text(group[0].protocol_name)} `{group[0].protocol_hash}`", "",
                 _markdown_text(protocol_caption(group[0])), "",
                 "| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(_markdown_text(cell) for cell in line) + " |" for line in body]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n" if out else "_No results yet._\n"


def render_csv(entries: Sequence[Entry]) -> str:
    """One row per result with its rank within its protocol, all metrics and the provenance columns."""
    metric_keys = sorted({key for entry in entries for key in entry.metrics})
    fields = ["protocol_name", "protocol_hash", "rank", "id", "model", "task", "dataset", *metric_keys,
              "num_samples", "train_steps", "train_seconds", "loss", "loss_plugin", "plugin", "plugin_version",
              "ganzoo_version",
              "config_hash", "checkpoint_hash", "recorded_at"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for _, group in iter_protocol_groups(list(entries)):
        for rank, entry in enumerate(ranked(group), 1):
            data = entry.as_dict()
            writer.writerow({**{key: data.get(key) for key in fields}, **entry.metrics, "rank": rank})
    return buffer.getvalue()


def render_json(entries: Sequence[Entry]) -> str:
    """Protocol groups with their ranked entries (full provenance; samples left out)."""
    groups = [
        {"protocol_name": group[0].protocol_name, "protocol_hash": digest, "protocol": group[0].protocol,
         "entries": [{"rank": rank, **entry.as_dict()} for rank, entry in enumerate(ranked(group), 1)]}
        for digest, group in iter_protocol_groups(list(entries))
    ]
    return json.dumps(groups, indent=2, sort_keys=False) + "\n"


def _provenance(entry: Entry) -> dict[str, Any]:
    return {
        "plugin": f"{entry.plugin} {entry.plugin_version}", "loss": loss_label(entry), "ganzoo": entry.ganzoo_version,
        "task": entry.task, "checkpoint": entry.checkpoint_hash, "config hash": entry.config_hash,
        "train steps": entry.train_steps, "train time": _duration(entry.train_seconds),
        "eval seconds": entry.eval_seconds, "run dir": entry.run_dir, "hardware": entry.hardware,
        "recorded": entry.recorded_at, "config": entry.config,
    }


def _html_table(group: list[Entry]) -> str:
    ordered = ranked_series(group)
    columns = metric_columns(group)
    esc = html.escape
    head = ['<th class="sortable" data-key="rank" data-type="number">#</th>',
            '<th class="sortable" data-key="model" data-type="text">model</th>', "<th>samples</th>"]
    head += [f'<th class="sortable" data-key="{key}" data-type="number" title="{"lower" if low else "higher"} is better'
             f'; mean ± std over seeds">{esc(title)}</th>' for key, title, low in columns]
    head += ['<th class="sortable" data-key="seeds" data-type="number">seeds</th>',
             '<th class="sortable" data-key="steps" data-type="number">steps</th>',
             '<th class="sortable" data-key="train_time" data-type="number">train time</th>',
             '<th class="sortable" data-key="recorded" data-type="text">recorded</th>', "<th>provenance</th>"]
    body = []
    for rank, series in enumerate(ordered, 1):
        entry = series.first
        provenance = _provenance(entry)
        provenance["seeds"] = series.seeds
        provenance["checkpoints"] = [e.checkpoint_hash for e in series.final.entries]
        summary = "; ".join(f"{k}: {v}" for k, v in provenance.items() if k not in ("config", "hardware"))
        thumb = ""
        if entry.sample_png_base64:
            thumb = (f'<img class="thumb" alt="samples of {esc(entry.model)}" '
                     f'src="data:image/png;base64,{entry.sample_png_base64}">')
        cells = [f'<td data-value="{rank}">{rank}</td>',
                 f'<td data-value="{esc(series.model)}" title="{esc(summary)}"><b>{esc(series.model)}</b></td>',
                 f"<td>{thumb}</td>"]
        for key, _, _ in columns:
            mean, _ = series.summary(key)
            cells.append(f'<td data-value="{"" if mean is None else repr(float(mean))}">{_spread(series, key)}</td>')
        seconds = _mean_seconds(series)
        cells.append(f'<td data-value="{len(series.final.entries)}">{len(series.final.entries)}</td>')
        cells.append(f'<td data-value="{entry.train_steps if entry.train_steps is not None else ""}">'
                     f'{"" if entry.train_steps is None else entry.train_steps}</td>')
        cells.append(f'<td data-value="{seconds if seconds is not None else ""}">{_duration(seconds)}</td>')
        cells.append(f'<td data-value="{esc(entry.recorded_at)}">{esc(entry.recorded_at[:19])}</td>')
        cells.append(f"<td><details><summary>{esc(entry.checkpoint_hash[:12])}</summary><pre>"
                     f"{esc(json.dumps(provenance, indent=1, default=str))}</pre></details></td>")
        body.append(f'<tr data-model="{esc(series.model)}">' + "".join(cells) + "</tr>")
    return (f'<table class="board"><thead><tr>{"".join(head)}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def protocol_curves_svg(group: Sequence[Entry]) -> str:
    """The learning curves of one protocol's series as one SVG (empty when no series has two steps)."""
    series = ranked_series(group)
    if not any(len(s.points) > 1 for s in series):
        return ""
    return curves_svg(series, metric_columns(group), f"{group[0].protocol_name} ({group[0].protocol_hash}) "
                      "learning curves")


def render_html(entries: Sequence[Entry], title: str = "ganzoo leaderboard") -> str:
    """One static page (no external resources): a sortable, filterable table and the learning curves per protocol."""
    sections = []
    for digest, group in iter_protocol_groups(list(entries)):
        protocol_json = html.escape(json.dumps(group[0].protocol, indent=1, sort_keys=True))
        curves = protocol_curves_svg(group)
        figure = (f'<figure class="learning-curves"><figcaption>Learning curves: mean over seeds (whiskers ± std) '
                  f"against real training images seen; step 0 is the untrained model.</figcaption>{curves}</figure>"
                  if curves else "")
        sections.append(
            f'<section class="protocol" data-protocol="{html.escape(digest)}">'
            f"<h2>{html.escape(group[0].protocol_name)} <code>{html.escape(digest)}</code></h2>"
            f"<p>{html.escape(protocol_caption(group[0]))}</p>"
            f"<details><summary>protocol</summary><pre>{protocol_json}</pre></details>"
            f"{_html_table(group)}{figure}</section>"
        )
    template = resources.files("ganzoo.leaderboard").joinpath("page.html").read_text(encoding="utf-8")
    body = "".join(sections) or "<p>No results yet.</p>"
    return template.replace("{{title}}", html.escape(title)).replace("{{sections}}", body)


RENDERERS: dict[str, Callable[[Sequence[Entry]], str]] = {
    "table": render_table, "markdown": render_markdown, "csv": render_csv, "json": render_json, "html": render_html,
}


def render(entries: Sequence[Entry], fmt: str) -> str:
    """Render ``entries`` in one of :data:`FORMATS`."""
    try:
        return RENDERERS[fmt](entries)
    except KeyError:
        raise ValueError(f"unknown leaderboard format {fmt!r}; allowed: {', '.join(FORMATS)}") from None
