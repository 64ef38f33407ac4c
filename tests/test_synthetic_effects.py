"""The synthetic world's known outcome effects (synthetic/effects.py): a world without
effects differs from the world with them only in its outcome observations, and the truth says
which effects were simulated. Their recovery from the export is tested in test_outcome_truth.py.
"""

from __future__ import annotations

import hashlib
import json

from contract.spec import EXTRACTS
from ingest.readers import read_table
from synthetic import NO_EFFECT, WITH_EFFECT, generate


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_no_effect_world_changes_only_the_outcomes(tmp_path):
    with_effect = generate("tiny", tmp_path / "a" / "landing", seed=7, effects=WITH_EFFECT)
    without = generate("tiny", tmp_path / "b" / "landing", seed=7, effects=NO_EFFECT)
    a = {p.name: _digest(p) for p in with_effect.files}
    b = {p.name: _digest(p) for p in without.files}
    assert a.keys() == b.keys()
    changed = {name for name in a if a[name] != b[name]}
    assert changed and all(name.startswith("ergebnisse_") for name in changed), changed
    truth_a = json.loads(with_effect.truth_path.read_text(encoding="utf-8"))["outcome_effects"]
    truth_b = json.loads(without.truth_path.read_text(encoding="utf-8"))["outcome_effects"]
    # the stated effects: odds ratios 2.0 (signed plan → first employment) and 4.0 (per unit
    # share of goal-linked contacts → B1); the no-effect world sets both to 1
    assert (truth_a["plan_on_employment"], truth_a["goal_links_on_language"]) == (2.0, 4.0)
    assert (truth_b["plan_on_employment"], truth_b["goal_links_on_language"]) == (1.0, 1.0)
    assert truth_a["employment_base_monthly_probability"] == 0.025


def test_events_are_observed_in_their_month_and_never_twice_a_day(tmp_path):
    result = generate("tiny", tmp_path / "landing", seed=7)
    outcomes = EXTRACTS["ergebnisse"]
    frames = [read_table(p, outcomes).frame for p in result.files if p.name.startswith("ergebn")]
    assert len(frames) == 3, "one ergebnisse file per tiny provider"
    for frame in frames:
        # the contract's key (fall_id, erhoben_am, bereich) stays unique with the event rows
        assert frame.select("fall_id", "erhoben_am", "bereich").is_unique().all()
        # every CM baseline has SPRACHE and ARBEIT, so "at risk" is known in the export
        assert {"SPRACHE", "ARBEIT"} <= set(frame.get_column("bereich"))
