"""Which data rule runs where (issues #10, #16): every dbt data test of the project and every rule
of the mart gate, each with its one nightly owner, written to `docs/data_rules.md`.

A dbt data test runs either

- **nightly**: in every `dbt build` of the nightly job, as an asset check of its model. It guards
  what the build cannot guarantee: the delivered extracts (staging, the ingest's bookkeeping),
  references a later delivery can break, reconciliations between models that real data can
  upset, what no gate checks on the published tables. Or
- **in `make test` only**: tagged `fixture_only` (`core.project_vars.FIXTURE_ONLY_TAG`), left
  out of the nightly build (`orchestration.assets.NIGHTLY_FIXTURE_ONLY_EXCLUDED`) and run on
  the hand-made fixtures of the dbt fixture builds (`tests/dbt_fixture.py`). It restates what
  holds on every input, so a nightly run could only repeat the fixture's verdict; its nightly
  owner is then

  - the **mart gate** (`meta: {mart_gate: [rule, ...]}`): the gate checks the same rule on the
    same table, or on its published copy, after dbt in every build;
  - the **extract gate** (`meta: {extract_gate: [rule, ...]}`): the model's construction holds
    given a rule the extract gate enforces on every delivered row (required, unique, codes,
    ranges, date orders; `expectations.extract_suites`);
  - the **seed**: the test reads fixed files of the repository only;
  - the **model's construction**: its SQL makes the rule true on any input (a GROUP BY key, a
    literal, a COALESCE, an inner join on the tested key).

The mart gate's rules are `expectations.mart_suites.RULES`. The generator reads the dbt manifest
(`dbt parse` of the project), so the file lists exactly what dbt runs. Rendering fails when a
test names an unknown gate rule, or a nightly test names an owner besides itself.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.spec import RuleKind
from core.project_vars import FIXTURE_ONLY_TAG, is_fixture_only_test
from expectations import extract_suites
from expectations.mart_suites import RULES, WARNING_RULES

DOC = Path("docs/data_rules.md")
GENERATED_NOTE = (
    "generated from the dbt project's data tests and expectations/mart_suites.py by "
    "`imw contract --write`; do not edit"
)

EXTRACT_GATE_RULES = frozenset(
    {
        extract_suites.REQUIRED,
        extract_suites.CODE,
        extract_suites.RANGE,
        extract_suites.UNIQUE,
        extract_suites.MAX_STAND_YEAR,
        extract_suites.NOT_AFTER_STAND,
        *(kind.value for kind in RuleKind),
    }
)
"""Rule ids of the extract gate, as its findings name them (row rules without their detail)."""

PROSE = """\
Every data rule of the warehouse has one nightly owner. The **extract gate** checks every delivered
row against the contract ([extract-contract.md](extract-contract.md),
`expectations/extract_suites.py`); **dbt data tests** check the models; the **mart gate** checks
every published table after dbt and blocks publication (`expectations/mart_suites.py`).

A dbt data test runs **nightly** (an asset check of `nightly_build`) when it guards what the build
cannot guarantee: the delivered extracts and the ingest's bookkeeping, references a later delivery
can break, reconciliations between models that real data can upset, what no gate checks on the
published tables. A test that restates its model's construction, a seed or a gate rule is tagged
`fixture_only` and runs **in `make test` only**, on the hand-made fixtures (`tests/dbt_fixture.py`:
the singular tests in every fixture build, the generic ones in the build with every extract); its
nightly owner is the gate, the seed or the construction named below. When in doubt a test stays
nightly. The tag and the owner are set on each test in the dbt project (e.g. `config: {tags:
[fixture_only], meta: {mart_gate: [key_unique]}}`); this file is generated from them
(`expectations/data_rules.py`)."""


@dataclass(frozen=True)
class DbtRule:
    """One dbt data test."""

    name: str
    """dbt's test name; for a nightly test also the name of its Dagster asset check."""
    target: str
    """The model, seed or source it tests (a singular test: the one Dagster attaches it to)."""
    path: str
    """Where it is defined, relative to dbt_project/."""
    checks: str
    severity: str
    fixture_only: bool
    mart_gate: tuple[str, ...] = ()
    extract_gate: tuple[str, ...] = ()
    seeds_only: bool = False

    @property
    def owner_kind(self) -> str:
        """Who checks the rule nightly: this test, or for a fixture-only one the mart gate, the
        extract gate (with the model's construction), the seed or the construction."""
        if not self.fixture_only:
            return "this test"
        if self.mart_gate:
            return "mart gate"
        if self.extract_gate:
            return "extract gate"
        return "seed" if self.seeds_only else "construction"

    @property
    def owner(self) -> str:
        """The rule's nightly owner, in words."""
        kind = self.owner_kind
        if kind == "mart gate":
            return "mart gate: " + ", ".join(f"`{r}`" for r in self.mart_gate)
        if kind == "extract gate":
            rules = ", ".join(f"`{r}`" for r in self.extract_gate)
            return f"construction, given the extract gate's {rules}"
        return "the seed (a fixed file)" if kind == "seed" else kind


def _code(text: str) -> str:
    return "`" + " ".join(str(text).split()).replace("|", "\\|").replace("`", "'") + "`"


def _columns(columns: Iterable[str]) -> str:
    return ", ".join(f"`{c}`" for c in columns)


def _ref_name(ref: str) -> str:
    match = re.fullmatch(r"""ref\(['"]([^'"]+)['"]\)""", ref.strip())
    return match.group(1) if match else ref


def _generic_checks(test: str, column: str | None, kwargs: Mapping[str, Any]) -> str:
    col = f"`{column}`" if column else ""
    if test == "unique":
        return f"{col} unique"
    if test == "not_null":
        return f"{col} not null"
    if test == "accepted_values":
        return f"{col} in {{{', '.join(str(v) for v in kwargs['values'])}}}"
    if test == "relationships":
        return f"{col} exists in `{_ref_name(kwargs['to'])}.{kwargs['field']}`"
    if test == "unique_combination":
        return f"({_columns(kwargs['columns'])}) unique"
    if test == "not_null_columns":
        return f"{_columns(kwargs['columns'])} not null"
    if test == "expression_is_true":
        return _code(kwargs["expression"])
    return f"{test}({', '.join(f'{k}={v}' for k, v in sorted(kwargs.items()))})"


def _singular_checks(raw_code: str) -> str:
    """The test's leading comment ("A failure means …") up to its first colon or full stop."""
    lines = []
    for line in raw_code.splitlines():
        if not line.startswith("--"):
            break
        lines.append(line.removeprefix("--").strip())
    text = " ".join(lines)
    match = re.match(r"(.*?)(?::\s|(?<!e\.g)(?<!i\.e)\.\s|\.$|$)", text)
    return (match.group(1) if match else text).replace("|", "\\|")


def _node_name(unique_id: str) -> str:
    return unique_id.split(".")[-1]


def _target(node: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    if node.get("attached_node"):
        return _node_name(node["attached_node"])
    ref = node["config"].get("meta", {}).get("dagster", {}).get("ref", {}).get("name")
    if ref:
        return ref
    parents = [n for n in node["depends_on"]["nodes"] if n.split(".")[0] in ("model", "seed")]
    return ", ".join(sorted(_node_name(p) for p in parents))


def _rule_list(meta: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = meta.get(key) or ()
    return (value,) if isinstance(value, str) else tuple(value)


def dbt_rules(manifest: Mapping[str, Any]) -> list[DbtRule]:
    """Every data test of the project in the manifest, in the order of their files."""
    rules = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        meta = node["config"].get("meta") or {}
        fixture_only = is_fixture_only_test(node)
        mart_gate = _rule_list(meta, "mart_gate")
        extract_gate = _rule_list(meta, "extract_gate")
        name = node["name"]
        unknown = [r for r in mart_gate if r not in RULES]
        unknown += [r for r in extract_gate if r not in EXTRACT_GATE_RULES]
        if unknown:
            raise ValueError(f"{name}: no such gate rule {unknown}")
        if (mart_gate or extract_gate) and not fixture_only:
            raise ValueError(
                f"{name}: names a gate as its owner but runs nightly: tag it {FIXTURE_ONLY_TAG}"
            )
        metadata = node.get("test_metadata")
        if metadata:
            checks = _generic_checks(metadata["name"], node.get("column_name"), metadata["kwargs"])
        else:
            checks = _singular_checks(node["raw_code"])
        parents = node["depends_on"]["nodes"]
        rules.append(
            DbtRule(
                name=name,
                target=_target(node, manifest),
                path=node["original_file_path"],
                checks=checks,
                severity=str(node["config"].get("severity", "ERROR")).lower(),
                fixture_only=fixture_only,
                mart_gate=mart_gate,
                extract_gate=extract_gate,
                seeds_only=bool(parents) and all(p.startswith("seed.") for p in parents),
            )
        )
    return sorted(rules, key=lambda r: (r.path, r.target, r.name))


def _mart_gate_text(rule: str) -> str:
    """The rule's English text, its placeholders named."""
    text = RULES[rule][1]
    return re.sub(r"\{(\w+)\}", lambda m: f"‹{m.group(1)}›", text).replace("|", "\\|")


def render(manifest: Mapping[str, Any]) -> str:
    rules = dbt_rules(manifest)
    nightly = [r for r in rules if not r.fixture_only]
    fixture = [r for r in rules if r.fixture_only]
    owners = Counter(r.owner_kind for r in fixture)
    # per gate rule, the models whose generic tests and the singular tests that restate it
    restated: dict[str, set[str]] = {}
    for r in fixture:
        for gate_rule in r.mart_gate:
            restated.setdefault(gate_rule, set()).add(
                r.name if r.path.startswith("tests/") else r.target
            )

    out = [
        f"<!-- {GENERATED_NOTE} -->",
        "# Data rules: which runs where",
        "",
        PROSE,
        "",
        "| | count |",
        "|---|---:|",
        f"| dbt data tests, nightly | {len(nightly)} |",
        f"| dbt data tests, `make test` only | {len(fixture)} |",
        *(
            f"| … of which the nightly owner is {owner} | {owners[owner]} |"
            for owner in ("mart gate", "extract gate", "construction", "seed")
        ),
        f"| mart gate rules, nightly | {len(RULES)} |",
        "",
        "## dbt data tests, nightly",
        "",
        "| test | on | checks | severity |",
        "|---|---|---|---|",
        *(f"| `{r.name}` | `{r.target}` | {r.checks} | {r.severity} |" for r in nightly),
        "",
        "## dbt data tests in `make test` only (`fixture_only`)",
        "",
        "| test | on | checks | nightly owner |",
        "|---|---|---|---|",
        *(f"| `{r.name}` | `{r.target}` | {r.checks} | {r.owner} |" for r in fixture),
        "",
        "## Mart gate rules, nightly (after dbt, before publish)",
        "",
        "An error blocks publication; a warning is listed in `reports/_betrieb/mart_gate.md`.",
        "",
        "| rule | severity | checks | restated in `make test` by tests on / singular tests |",
        "|---|---|---|---|",
        *(
            f"| `{rule}` | {'warning' if rule in WARNING_RULES else 'error'} | "
            f"{_mart_gate_text(rule)} | "
            f"{', '.join(f'`{n}`' for n in sorted(restated.get(rule, ()))) or '–'} |"
            for rule in sorted(RULES)
        ),
        "",
    ]
    return "\n".join(out)


def write(root: Path, manifest: Mapping[str, Any]) -> Path:
    (root / DOC).write_text(render(manifest), encoding="utf-8")
    return DOC


def is_stale(root: Path, manifest: Mapping[str, Any]) -> bool:
    path = root / DOC
    return not path.exists() or path.read_text(encoding="utf-8") != render(manifest)
