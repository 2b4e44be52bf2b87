"""六、各站对比: one row per station, one column per ``StationColumn`` the
other registered sections declare (``ReportSection.per_station``).  Shown
when the report covers more than one station."""

from __future__ import annotations

from typing import Any

from .base import Chart, Drill, ReportSection, Run, Section, StationColumn, Table


class ComparisonSection(ReportSection):
    key, title = "comparison", "各站对比"
    station_width = 0.24  # of the PDF page, for the station names

    def section(self, run: Run) -> Section | None:
        c = run.ctx
        seen = run.seen_origins
        if not (len(c.stations) > 1 or (not c.stations and len(seen - {None}) > 1)):
            return None
        names = run.station_names
        origins: set[str] = set(c.stations)
        columns: list[StationColumn] = []
        for other in run.sections:
            if other is self:
                continue
            got = other.per_station(run)
            if got is not None:
                origins |= got.origins
                columns += got.columns
        rows: list[list[Any]] = []
        drills: list[list[Drill | None]] = []
        for o in sorted(origins):
            n = names.get(o, o)
            rows.append([n, *(col.value(o) for col in columns)])
            drills.append([None, *(col.drill(o, n) if col.drill else None for col in columns)])
        widths = [self.station_width, *(col.width for col in columns)]
        if abs(sum(widths) - 1) > 1e-9:
            widths = [w / sum(widths) for w in widths]
        out = Section(self.key, self.title)
        out.tables.append(
            Table(
                "stations",
                "各站主要指标",
                ["站点", *(col.label for col in columns)],
                rows,
                drills,
                {i: col.fmt for i, col in enumerate(columns, 1)},
                widths=widths,
            )
        )
        if rows and columns:
            out.charts.append(
                Chart("hbar", f"{columns[0].label}件数（按站点）", [r[0] for r in rows], [r[1] for r in rows])
            )
        return out
