"""What a published outcome analysis consists of, shared by the side that writes it
(export/outcome_analysis.py, `imw analyse-outcomes`) and the side that shows it (the report's
Wirkung page, indicator_report/outcomes.py), which may not import each other.

The files are the analysis's own (written into the evaluator's export folder); `imw
analyse-outcomes` copies them to `Settings.published_outcomes_dir`, where the report reads them.
"""

from __future__ import annotations

MODELS_FILE = "outcome_models.parquet"
CURVES_FILE = "outcome_curves.parquet"
SUMMARY_FILE = "outcome_analysis.json"
PUBLISHED_FILES = (MODELS_FILE, CURVES_FILE, SUMMARY_FILE)
"""The files published into the warehouse home for the report (the CSV twins stay in the export)."""
AT_RISK_MONTHS = (6, 12, 24)
"""Months since the first contact at which the curves' tables give the numbers at risk."""

DESIGN_DE = (
    "Was diese Auswertung zeigen kann und was nicht: Die Daten sind Beobachtungsdaten. Die "
    "Hazard-Ratios beschreiben, wie sich die monatliche Chance auf ein Ergebnis zwischen "
    "Fallmonaten mit und ohne Integrationsplan (bzw. mit mehr oder weniger zielbezogenen "
    "Kontakten) unterscheidet, nachdem Alter, Geschlecht, Herkunftsregion, Bleibeperspektive, "
    "Einreisekohorte, Zeitraum des Fallbeginns, Zeit seit dem Erstkontakt und Kreis "
    "berücksichtigt sind. Sie sind keine Wirkungen: Wer einen Plan bekommt, wird ausgewählt — "
    "Integrationsmanagerinnen und -manager schließen Pläne eher mit Menschen, die motiviert, "
    "erreichbar und ohnehin auf einem guten Weg sind, und diese Auswahl steht in keiner Variable "
    "dieses Exports. Ein Hazard-Ratio über 1 kann deshalb ganz oder teilweise daraus entstehen, "
    "wer beraten wird, und nicht daraus, wie. Dazu kommen Messgrenzen: Ergebnisse werden nur "
    "erhoben, solange ein Fall läuft, und die Kaplan–Meier-Kurven vergleichen Gruppen, die sich "
    "auch in anderem unterscheiden. Einen kausalen Schluss erlaubt erst ein Design, das die "
    "Auswahl bricht — etwa die gestaffelte Einführung verpflichtender Integrationspläne "
    "(Ersuchen 3 des Landtags) als natürliches Experiment: Kreise, die früher verpflichtet werden, "
    "gegen Kreise, die später folgen (Differenzen-in-Differenzen bzw. Event-Study), oder eine "
    "zufällige Reihenfolge der Einführung."
)
"""In plain German, what the observational design can and cannot show (in `wirkung.md`, in
`outcome_analysis.json` and on the report's Wirkung page)."""
