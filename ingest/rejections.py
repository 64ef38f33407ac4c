"""Whole-file rejections and the plain-language messages a municipal clerk reads about them.

A rejected file goes to quarantine and the provider's previous snapshot stays in use, so the
message has to tell the clerk what to fix without anyone opening the file. Messages are built
only from structural facts (file name, column names, positions): cell values may be personal data
and must never reach a report or a log.

The report lists each rejection next to its file name, so messages repeat the file name only
where the name itself is the problem. English messages start in lower case because the report
puts them after the file name ("kontakte_08115003_2026-03-31.csv: required column(s) missing: …").
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any


class RejectReason(enum.StrEnum):
    BAD_FILE_NAME = "BAD_FILE_NAME"
    UNKNOWN_EXTRACT = "UNKNOWN_EXTRACT"
    UNSUPPORTED_FORMAT = "UNSUPPORTED_FORMAT"
    UNREADABLE = "UNREADABLE"
    BAD_ENCODING = "BAD_ENCODING"
    MISSING_COLUMNS = "MISSING_COLUMNS"
    EMPTY_FILE = "EMPTY_FILE"
    WRONG_PROVIDER_FOR_EXTRACT = "WRONG_PROVIDER_FOR_EXTRACT"
    TOO_MANY_BAD_ROWS = "TOO_MANY_BAD_ROWS"  # raised by the loader, not by the readers


class Problem(enum.StrEnum):
    """The `problem` fact of a rejection, for reasons that cover several distinct defects."""

    # BAD_FILE_NAME
    PATTERN = "PATTERN"
    STAND_NOT_A_DATE = "STAND_NOT_A_DATE"
    # UNREADABLE
    BINARY = "BINARY"
    MALFORMED_CSV = "MALFORMED_CSV"
    TOO_MANY_FIELDS = "TOO_MANY_FIELDS"
    DUPLICATE_COLUMNS = "DUPLICATE_COLUMNS"
    CORRUPT_XLSX = "CORRUPT_XLSX"
    # MISSING_COLUMNS
    HEADER_ROW_EMPTY = "HEADER_ROW_EMPTY"
    # WRONG_PROVIDER_FOR_EXTRACT: which kind of extract was sent with the wrong provider
    AUTHORITY_EXTRACT = "AUTHORITY_EXTRACT"
    PROVIDER_EXTRACT = "PROVIDER_EXTRACT"


_NAME_PATTERN = "<auszug>_<träger>_<stand>.csv|xlsx"
_EXAMPLE = "kontakte_08115003_2026-03-31.csv"

# (reason, problem) -> (German, English). Placeholders name keys of the rejection's facts.
# (reason, None) is the wording when the problem is not one of those listed for the reason.
_TEMPLATES: dict[tuple[RejectReason, str | None], tuple[str, str]] = {
    (RejectReason.BAD_FILE_NAME, None): (
        f"Der Dateiname „{{file_name}}“ entspricht nicht dem Muster {_NAME_PATTERN} "
        f"(Beispiel: {_EXAMPLE}).",
        f"the file name '{{file_name}}' does not follow the pattern {_NAME_PATTERN} "
        f"(example: {_EXAMPLE}).",
    ),
    (RejectReason.BAD_FILE_NAME, Problem.STAND_NOT_A_DATE): (
        "Der Dateiname „{file_name}“ enthält als Stand „{stand}“, das ist kein gültiges Datum "
        "(JJJJ-MM-TT).",
        "the file name '{file_name}' gives '{stand}' as its date (stand), which is not a valid "
        "date (YYYY-MM-DD).",
    ),
    (RejectReason.UNKNOWN_EXTRACT, None): (
        "Der Dateiname „{file_name}“ nennt den unbekannten Auszug „{extract}“. "
        "Erlaubt sind: {known}.",
        "the file name '{file_name}' names the unknown extract '{extract}'. "
        "Known extracts: {known}.",
    ),
    (RejectReason.UNSUPPORTED_FORMAT, None): (
        "Die Datei „{file_name}“ hat das Format „.{suffix}“; angenommen werden nur CSV und XLSX.",
        "the file '{file_name}' has the format '.{suffix}'; only CSV and XLSX are accepted.",
    ),
    (RejectReason.WRONG_PROVIDER_FOR_EXTRACT, None): (
        "Der Auszug „{extract}“ darf nicht von Träger {provider} geliefert werden "
        "(Datei „{file_name}“).",
        "the extract '{extract}' may not be delivered by provider {provider} (file '{file_name}').",
    ),
    (RejectReason.WRONG_PROVIDER_FOR_EXTRACT, Problem.AUTHORITY_EXTRACT): (
        "Der Auszug „{extract}“ wird nur von der Bewilligungsstelle mit Träger 08 geliefert, "
        "nicht von Träger {provider} (Datei „{file_name}“).",
        "the extract '{extract}' is delivered only by the funding authority with provider 08, "
        "not by provider {provider} (file '{file_name}').",
    ),
    (RejectReason.WRONG_PROVIDER_FOR_EXTRACT, Problem.PROVIDER_EXTRACT): (
        "Der Auszug „{extract}“ wird von einer Gemeinde oder einem Kreis geliefert (AGS mit 8 "
        "oder 5 Stellen), nicht mit Träger 08 (Datei „{file_name}“).",
        "the extract '{extract}' is delivered by a municipality or district (AGS with 8 or 5 "
        "digits), not with provider 08 (file '{file_name}').",
    ),
    (RejectReason.TOO_MANY_BAD_ROWS, None): (
        "{bad_rows} von {rows} Zeilen sind fehlerhaft, mehr als {limit_percent} %; die Datei "
        "wird deshalb als Ganzes abgelehnt. Die fehlerhaften Zeilen stehen im Bericht.",
        "{bad_rows} of {rows} rows are faulty, more than {limit_percent} %, so the whole file is "
        "rejected. The faulty rows are listed in the report.",
    ),
    (RejectReason.EMPTY_FILE, None): (
        "Die Datei ist leer (nicht einmal eine Kopfzeile).",
        "the file is empty (not even a header row).",
    ),
    (RejectReason.BAD_ENCODING, None): (
        "Die Zeichenkodierung ist weder UTF-8 noch Windows-1252: ungültiges Byte an Position "
        "{byte_offset} (Zeile {line}). Bitte als CSV UTF-8 speichern.",
        "the character encoding is neither UTF-8 nor Windows-1252: invalid byte at offset "
        "{byte_offset} (line {line}). Please save as CSV UTF-8.",
    ),
    (RejectReason.MISSING_COLUMNS, None): (
        "Pflichtspalte(n) fehlen: {columns}.",
        "required column(s) missing: {columns}.",
    ),
    (RejectReason.MISSING_COLUMNS, Problem.HEADER_ROW_EMPTY): (
        "Pflichtspalte(n) fehlen: {columns}. Die erste Zeile ist leer; die Spaltennamen müssen "
        "in Zeile 1 stehen.",
        "required column(s) missing: {columns}. The first row is empty; the column names must "
        "be in row 1.",
    ),
    (RejectReason.UNREADABLE, None): (
        "Die Datei kann nicht gelesen werden.",
        "the file cannot be read.",
    ),
    (RejectReason.UNREADABLE, Problem.BINARY): (
        "Die Datei ist keine Textdatei (sie enthält Null-Bytes) und kann nicht als CSV gelesen "
        "werden. Bitte als CSV oder XLSX speichern.",
        "the file is not a text file (it contains NUL bytes) and cannot be read as CSV. Please "
        "save it as CSV or XLSX.",
    ),
    (RejectReason.UNREADABLE, Problem.MALFORMED_CSV): (
        "Die Datei kann nicht als CSV gelesen werden (z. B. ein Anführungszeichen, das nicht "
        "geschlossen wird, oder ein Anführungszeichen mitten in einem Feld).",
        "the file cannot be parsed as CSV (e.g. a quotation mark that is never closed, or a "
        "quotation mark inside an unquoted field).",
    ),
    (RejectReason.UNREADABLE, Problem.TOO_MANY_FIELDS): (
        "Mindestens eine Zeile hat zwei oder mehr Felder mehr als die Kopfzeile "
        "({header_fields} Spalten). Steht ein Trennzeichen ({delimiter}) in einem Wert, der "
        "nicht in Anführungszeichen gesetzt ist?",
        "at least one row has two or more fields more than the header row "
        "({header_fields} columns). Is a delimiter ({delimiter}) inside a value that is not "
        "enclosed in quotation marks?",
    ),
    (RejectReason.UNREADABLE, Problem.DUPLICATE_COLUMNS): (
        "Spalte(n) mehrfach in der Kopfzeile (Groß-/Kleinschreibung zählt nicht): {columns}.",
        "column(s) appearing more than once in the header row (ignoring case): {columns}.",
    ),
    (RejectReason.UNREADABLE, Problem.CORRUPT_XLSX): (
        "Die Datei kann nicht als Excel-Arbeitsmappe (XLSX) geöffnet werden; sie ist beschädigt "
        "oder in Wahrheit ein anderes Format.",
        "the file cannot be opened as an Excel workbook (XLSX); it is damaged or really another "
        "format.",
    ),
}


class _Facts(dict[str, str]):
    """Format mapping that shows a gap instead of failing when a fact was not recorded."""

    def __missing__(self, key: str) -> str:
        return "[?]"


def _render(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class FileRejection(Exception):
    """A delivered file that cannot be taken in as a whole.

    `detail` holds structural facts only (file name, column names, positions, `problem`); the
    messages are rendered from it, so it must never be given cell values.
    """

    def __init__(self, reason: RejectReason, detail: Mapping[str, Any] | None = None) -> None:
        self.reason = reason
        self.detail: dict[str, Any] = dict(detail or {})
        super().__init__(self.message_en)

    def __reduce__(self) -> tuple[type[FileRejection], tuple[RejectReason, dict[str, Any]]]:
        # Exceptions pickle via their args by default; ours are built from reason and detail
        # (multiprocess runners pickle exceptions).
        return (type(self), (self.reason, self.detail))

    def _templates(self) -> tuple[str, str]:
        specific = _TEMPLATES.get((self.reason, self.detail.get("problem")))
        return specific or _TEMPLATES[(self.reason, None)]

    def _format(self, template: str) -> str:
        facts = _Facts({key: _render(value) for key, value in self.detail.items()})
        if isinstance(self.detail.get("limit"), int | float):
            facts["limit_percent"] = f"{self.detail['limit'] * 100:g}"
        return template.format_map(facts)

    @property
    def message_de(self) -> str:
        return self._format(self._templates()[0])

    @property
    def message_en(self) -> str:
        return self._format(self._templates()[1])
