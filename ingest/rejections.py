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
    BAD_STAND = "BAD_STAND"
    UNKNOWN_PROVIDER = "UNKNOWN_PROVIDER"
    NOT_A_REGULAR_FILE = "NOT_A_REGULAR_FILE"  # raised by the loader
    CONFLICTING_SNAPSHOT = "CONFLICTING_SNAPSHOT"  # raised by the loader


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
    HEADER_TOO_LONG = "HEADER_TOO_LONG"
    XLSX_TOO_LARGE = "XLSX_TOO_LARGE"
    XLSX_TOO_MANY_CELLS = "XLSX_TOO_MANY_CELLS"
    XLSX_ERROR_CELLS = "XLSX_ERROR_CELLS"
    XLSX_HIDDEN_SHEET = "XLSX_HIDDEN_SHEET"
    READ_FAILED = "READ_FAILED"
    # BAD_STAND
    STAND_IN_FUTURE = "STAND_IN_FUTURE"
    STAND_BEFORE_PROGRAMME = "STAND_BEFORE_PROGRAMME"
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
        "Mindestens eine Zeile hat mehr als {surplus} Felder mehr als die Kopfzeile "
        "({header_fields} Spalten). Steht ein Trennzeichen ({delimiter}) in einem Wert, der "
        "nicht in Anführungszeichen gesetzt ist?",
        "at least one row has more than {surplus} fields more than the header row "
        "({header_fields} columns). Is a delimiter ({delimiter}) inside a value that is not "
        "enclosed in quotation marks?",
    ),
    (RejectReason.UNREADABLE, Problem.HEADER_TOO_LONG): (
        "Die Kopfzeile ist länger als {limit} Zeichen; das ist keine Kopfzeile nach der "
        "Schnittstellenbeschreibung.",
        "the header row is longer than {limit} characters; that is not a header row as the "
        "contract describes it.",
    ),
    (RejectReason.UNREADABLE, Problem.XLSX_TOO_LARGE): (
        "Die Arbeitsmappe ist entpackt größer als {limit_mb} MB (Grenze der "
        "Schnittstellenbeschreibung). Bitte nur das erste Tabellenblatt mit den Daten liefern "
        "oder als CSV.",
        "the workbook is larger than {limit_mb} MB uncompressed (the contract's limit). Please "
        "deliver only the first sheet with the data, or CSV.",
    ),
    (RejectReason.UNREADABLE, Problem.XLSX_TOO_MANY_CELLS): (
        "Das erste Tabellenblatt umfasst (laut seinem Bereich oder seinen Zellen) mehr als "
        "{limit} Zellen (Grenze der Schnittstellenbeschreibung). Leere, aber formatierte Zellen "
        "weit außerhalb der Daten löschen oder als CSV liefern.",
        "the first sheet spans (by its declared range or its cells) more than {limit} cells "
        "(the contract's limit). Delete formatted empty cells far outside the data, or deliver "
        "CSV.",
    ),
    (RejectReason.UNREADABLE, Problem.XLSX_ERROR_CELLS): (
        "Das erste Tabellenblatt enthält Excel-Fehlerwerte (z. B. #BEZUG!, #DIV/0!); sie würden "
        "als leere Zellen gelesen. Bitte die Formeln korrigieren oder Werte einfügen.",
        "the first sheet holds Excel error values (e.g. #REF!, #DIV/0!); they would be read as "
        "empty cells. Please fix the formulas or paste values.",
    ),
    (RejectReason.UNREADABLE, Problem.XLSX_HIDDEN_SHEET): (
        "Das erste Tabellenblatt („{sheet}“) ist ausgeblendet; gelesen wird immer das erste "
        "Blatt. Bitte das Datenblatt an die erste Stelle setzen und sichtbar machen.",
        "the first sheet ('{sheet}') is hidden; the first sheet is always the one read. Please "
        "move the data sheet to the first position and make it visible.",
    ),
    (RejectReason.UNREADABLE, Problem.READ_FAILED): (
        "Die Datei kann nicht gelesen werden (Lesefehler {error}). Bitte neu exportieren und "
        "erneut liefern; bleibt der Fehler, bitte den Betrieb informieren.",
        "the file cannot be read (read error {error}). Please export it again and deliver "
        "again; if the error persists, please tell the operators.",
    ),
    (RejectReason.BAD_STAND, Problem.STAND_IN_FUTURE): (
        "Der Stand {stand} im Dateinamen liegt nach dem Eingangstag {received}; ein Auszug kann "
        "nicht aus der Zukunft stammen (Tippfehler?).",
        "the stand {stand} in the file name is after the day of arrival {received}; an extract "
        "cannot come from the future (a typo?).",
    ),
    (RejectReason.BAD_STAND, Problem.STAND_BEFORE_PROGRAMME): (
        "Der Stand {stand} im Dateinamen liegt vor dem Beginn des Programms ({start}).",
        "the stand {stand} in the file name is before the programme began ({start}).",
    ),
    (RejectReason.BAD_STAND, None): (
        "Der Stand {stand} im Dateinamen ist nicht zulässig.",
        "the stand {stand} in the file name is not allowed.",
    ),
    (RejectReason.UNKNOWN_PROVIDER, None): (
        "Der Träger {provider} im Dateinamen ist kein Kreis und keine Gemeinde Baden-Württembergs "
        "(die ersten fünf Ziffern müssen einer der {n_kreise} Kreise sein).",
        "the provider {provider} in the file name is no district or municipality of "
        "Baden-Württemberg (its first five digits must be one of the {n_kreise} districts).",
    ),
    (RejectReason.NOT_A_REGULAR_FILE, None): (
        "„{file_name}“ ist keine gewöhnliche Datei (z. B. ein symbolischer Link) und wird nicht "
        "gelesen. Bitte die Datei selbst ablegen.",
        "'{file_name}' is not a regular file (e.g. a symbolic link) and is not read. Please put "
        "the file itself into the landing folder.",
    ),
    (RejectReason.CONFLICTING_SNAPSHOT, None): (
        "Für Träger, Auszug und Stand {stand} wurde bereits eine andere Datei angenommen. Eine "
        "Korrektur bitte mit einem späteren Stand liefern.",
        "another file with the same provider, extract and stand {stand} was accepted already. "
        "Please deliver a correction with a later stand.",
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
