"""Benchmark data: the generated deliveries, cached by (scale, seed, stand), and a re-delivery.

The cache folder `<root>/<scale>-seed<N>-<stand>/` holds `landing/` (the generated files, never
touched again), `ground_truth.json` beside it and `manifest.json` (per file: extract, provider,
rows, bytes, encoding, delimiter). It is written to a temporary folder and renamed into place
with a `.complete` marker inside, so a half-written cache is never used.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from ingest.readers import LINE, parse_file_name, read_table

MARKER = ".complete"
MANIFEST = "manifest.json"
LANDING = "landing"
CONTACTS = "kontakte"
GENERATED = "generated.json"
"""What `main` writes into the folder it generated into; read and removed by the bench."""


@dataclass(frozen=True)
class DataFile:
    name: str
    extract: str
    provider: str
    rows: int
    """Data rows as the contract reader sees them (blank rows not counted)."""
    bytes: int
    encoding: str | None
    """As delivered: utf-8, utf-8-sig or cp1252; None for XLSX."""
    delimiter: str | None


@dataclass(frozen=True)
class Dataset:
    folder: Path
    scale: str
    seed: int
    stand: date
    files: list[DataFile]
    generator_rows: dict[str, int]
    generation: dict[str, object] | None = None
    """How the generator ran when the cache was made (wall s, peak RSS, load, time), when it
    was measured (`bench.run` generates in a sampled subprocess); None for older caches."""

    @property
    def landing(self) -> Path:
        return self.folder / LANDING

    @property
    def rows(self) -> int:
        return sum(f.rows for f in self.files)

    @property
    def bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def rows_by_extract(self) -> dict[str, int]:
        rows: dict[str, int] = {}
        for f in self.files:
            rows[f.extract] = rows.get(f.extract, 0) + f.rows
        return dict(sorted(rows.items()))

    def summary(self) -> dict[str, object]:
        return {
            "scale": self.scale,
            "seed": self.seed,
            "stand": self.stand.isoformat(),
            "files": len(self.files),
            "rows": self.rows,
            "bytes": self.bytes,
            "xlsx_files": sum(f.encoding is None for f in self.files),
            "rows_by_extract": self.rows_by_extract(),
            "cache": str(self.folder),
        }


def cache_name(scale: str, seed: int, stand: date) -> str:
    return f"{scale}-seed{seed}-{stand.isoformat()}"


def describe_file(path: Path) -> DataFile:
    """Name, size and rows of one delivered file, read with the warehouse's own reader."""
    name = parse_file_name(path)
    table = read_table(path, name.extract)
    return DataFile(
        path.name,
        name.extract,
        name.provider,
        table.rows_delivered,
        path.stat().st_size,
        table.encoding,
        table.delimiter,
    )


Generator = Callable[[Path], dict[str, object]]
"""Writes the data set into a temporary cache folder (`landing/`, `ground_truth.json`) and
returns {"rows": rows per extract, ...figures of the run}."""


def generate_into(folder: Path, scale: str, seed: int, stand: date) -> dict[str, object]:
    """Generate in this process: `landing/` and `ground_truth.json` inside `folder`."""
    from synthetic import generate

    result = generate(
        scale, folder / LANDING, seed=seed, stand=stand, truth_path=folder / "ground_truth.json"
    )
    return {"rows": dict(sorted(result.rows.items()))}


def cached_dataset(
    root: Path, scale: str, seed: int, stand: date, generator: Generator | None = None
) -> tuple[Dataset, bool]:
    """The cached data set, generated first if it is missing or incomplete; (data, was_cached).

    `generator` (default: `generate_into` in this process) may run the generator elsewhere and
    measure it; what it returns besides the rows is kept in the manifest as `generation`.
    """
    folder = root / cache_name(scale, seed, stand)
    if (folder / MARKER).is_file():
        return load_dataset(folder), True
    if folder.exists():
        shutil.rmtree(folder)  # half-written by an interrupted run
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{folder.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    ran = (generator or (lambda into: generate_into(into, scale, seed, stand)))(tmp)
    rows = ran.pop("rows")
    files = [describe_file(p) for p in sorted((tmp / LANDING).iterdir())]
    manifest = {
        "scale": scale,
        "seed": seed,
        "stand": stand.isoformat(),
        "generator_rows": dict(sorted(rows.items())),
        "generation": ran or None,
        "files": [asdict(f) for f in files],
    }
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    (tmp / MARKER).write_text("complete\n", encoding="utf-8")
    os.rename(tmp, folder)
    return load_dataset(folder), False


def load_dataset(folder: Path) -> Dataset:
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return Dataset(
        folder,
        manifest["scale"],
        manifest["seed"],
        date.fromisoformat(manifest["stand"]),
        [DataFile(**f) for f in manifest["files"]],
        manifest["generator_rows"],
        manifest.get("generation"),
    )


def link_files(sources: list[Path], target: Path) -> None:
    """Hard-link files into `target` (a build moves landing files; links keep the originals)."""
    target.mkdir(parents=True, exist_ok=True)
    for src in sources:
        dst = target / src.name
        try:
            os.link(src, dst)
        except OSError:  # another filesystem
            shutil.copy2(src, dst)


def medium_provider(data: Dataset) -> str:
    """The provider (not the funding authority) with the median total rows; ties: lower AGS."""
    totals: dict[str, int] = {}
    for f in data.files:
        if len(f.provider) > 2:
            totals[f.provider] = totals.get(f.provider, 0) + f.rows
    ranked = sorted(totals, key=lambda p: (totals[p], p))
    return ranked[(len(ranked) - 1) // 2]


def redelivery_name(name: str, stand: date) -> str:
    parsed = parse_file_name(name)
    return f"{parsed.extract}_{parsed.provider}_{stand.isoformat()}.{parsed.suffix}"


def redeliver(data: Dataset, provider: str, out: Path, days: int = 1) -> list[Path]:
    """Write new versions of all of `provider`'s files into `out`, stand + `days` in the name.

    Same rows as cached (dates stay on or before the old stand, so before the new one), except
    that the contacts file loses its last data row (no extract refers to contacts). Each file
    keeps its encoding, delimiter and format, with the contract's column names and the other
    line ending, so no file is byte-identical to the one it replaces.
    """
    new_stand = data.stand + timedelta(days=days)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for f in data.files:
        if f.provider != provider:
            continue
        src = data.landing / f.name
        frame = read_table(src, f.extract).frame.drop(LINE)
        if f.extract == CONTACTS and frame.height:
            frame = frame.head(-1)
        dst = out / redelivery_name(f.name, new_stand)
        if f.encoding is None:
            frame.write_excel(dst, autofit=False)
        else:
            _write_csv_like(frame, dst, f, crlf=not _has_crlf(src))
        written.append(dst)
    return written


def _has_crlf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.readline().endswith(b"\r\n")


def _write_csv_like(frame: pl.DataFrame, path: Path, like: DataFile, *, crlf: bool) -> None:
    text = frame.write_csv(
        separator=like.delimiter or ";", line_terminator="\r\n" if crlf else "\n"
    )
    if like.encoding == "cp1252":
        path.write_bytes(text.encode("cp1252"))
    else:
        bom = b"\xef\xbb\xbf" if like.encoding == "utf-8-sig" else b""
        path.write_bytes(bom + text.encode("utf-8"))


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.data FOLDER SCALE SEED STAND`: generate into FOLDER and write the rows
    per extract to FOLDER/generated.json (how `bench.run` measures the generator on its own)."""
    import sys

    from core import progress

    folder, scale, seed, stand = argv if argv is not None else sys.argv[1:]
    with progress.reporting():  # the generator's lines, shown by the bench as they come
        ran = generate_into(Path(folder), scale, int(seed), date.fromisoformat(stand))
    (Path(folder) / GENERATED).write_text(json.dumps(ran) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
