"""The results table, the targets section, and the JSON dump."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .servers import CUE, DIST_FS, DIST_MEM, registry_names
from .stats import Results, Row
from .targets import Target

COMPARED = (DIST_MEM, DIST_FS, CUE)
"""Registry servers every other registry's row is also shown as a ratio to."""
HEADER = (
    f"{'benchmark':<30} {'server':<10} {'median':>10} {'min':>10} {'max':>10} {'unit':<7}"
    f" {'ratio':>7}  {'to baseline':<28}" + "".join(f" {'vs ' + name:>11}" for name in COMPARED) + "  note"
)


def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def line(results: Results, row: Row) -> str:
    stat = row.stat
    base = results.ratio(row.key, row.baseline) if row.baseline else None
    base_name = "/".join(row.baseline) if row.baseline else ""
    registry = row.server in registry_names()
    others = "".join(
        f" {ratio(results.ratio(row.key, (row.bench, name)) if registry and row.server != name else None):>11}"
        for name in COMPARED
    )
    return (
        f"{row.bench:<30} {row.server:<10} {number(stat.median):>10} {number(stat.min):>10} {number(stat.max):>10}"
        f" {row.unit:<7} {ratio(base):>7}  {base_name:<28}{others}  {row.note}"
    )


def table(results: Results) -> str:
    lines = [HEADER, "-" * len(HEADER)]
    group = None
    for row in results.rows:
        head = row.bench.split(".")[0]
        if group is not None and head != group:
            lines.append("")
        group = head
        lines.append(line(results, row))
    lines.append("")
    lines.append(
        "ratio = median / baseline's median, in the row's unit; MB/s and req/s: higher is better; ms and x: lower."
    )
    lines.append(
        "Rows measured in the same interleaved rounds (small, chunked): the median of the per-round ratios instead."
    )
    return "\n".join(lines)


def targets_section(results: Results, targets: list[Target]) -> str:
    lines = ["targets"]
    for target in targets:
        value = target.value(results)
        shown = "-" if value is None else f"{value:.3g}"
        references = target.reference_values(results)
        if references:
            shown += "  (" + ", ".join(f"{name}: {value:.3g}" for name, value in references.items()) + ")"
        lines.append(f"  {target.status(results):<5} {target.label:<60} {shown}")
    return "\n".join(lines)


def to_json(results: Results, targets: list[Target]) -> dict[str, Any]:
    return {
        "rows": [
            {
                "bench": r.bench,
                "server": r.server,
                "unit": r.unit,
                "higher_is_better": r.higher_is_better,
                "median": r.stat.median,
                "min": r.stat.min,
                "max": r.stat.max,
                "samples": list(r.stat.samples),
                "rounds": r.stat.rounds,
                "baseline": list(r.baseline) if r.baseline else None,
                "ratio": results.ratio(r.key, r.baseline) if r.baseline else None,
                "note": r.note,
            }
            for r in results.rows
        ],
        "targets": [
            {
                "label": t.label,
                "value": t.value(results),
                "limit": t.limit,
                "status": t.status(results),
                "references": t.reference_values(results),
            }
            for t in targets
        ],
    }


def write_json(path: Path, results: Results, targets: list[Target]) -> None:
    path.write_text(json.dumps(to_json(results, targets), indent=2) + "\n")
