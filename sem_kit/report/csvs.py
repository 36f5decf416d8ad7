"""tables/*.csv: every table, one file each, UTF-8 with a BOM so Excel reads Chinese text."""

from __future__ import annotations

from pathlib import Path

from sem_kit.io.atomic import write_with
from sem_kit.report.tables import Tables


def write_csvs(tables: Tables, folder: Path) -> list[Path]:
    """Write each exported table as ``folder/<id>.csv``; return the paths written.

    Headers are the column keys (as in results.json), values the raw
    numbers at full precision, missing values empty, verdicts as codes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables.exported():
        path = folder / f"{table.id}.csv"
        frame = table.csv_frame()
        write_with(path, lambda tmp, frame=frame: frame.to_csv(
            tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n"))
        written.append(path)
    return written
