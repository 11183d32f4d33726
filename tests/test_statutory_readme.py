"""The README's table of deadline rules is the rule table itself, so the two cannot drift."""

from pathlib import Path

from models.deadlines import RULES

README = Path(__file__).resolve().parent.parent / "README.md"


def _cap(period) -> str:
    if period.contract_field is None:
        return "—"
    if period.days is None:
        return "the contract's days"
    if period.cap is None:
        return "contract's own period stands"
    cap = f"at most {period.cap}"
    return f"{cap} ({period.cap_section})" if period.cap_section else cap


def rule_rows() -> list[str]:
    rows = []
    for jurisdiction, rules in RULES.items():
        for period in rules.periods:
            days = f"{period.days} {rules.calendar.unit}" if period.days else "contract's days"
            direction = "before" if period.before else "after"
            counted = f"{direction} {period.counts_from.replace('_', ' ')}"
            rows.append(
                f"| {jurisdiction} | `{period.kind}` | {days} | {counted} | "
                f"{rules.calendar.excluded_words} | {_cap(period)} | "
                f"{period.act} {period.section}".strip()
                + " |"
            )
    return rows


def test_readme_lists_every_rule_as_the_table_has_it():
    text = README.read_text(encoding="utf-8")
    missing = [row for row in rule_rows() if row not in text]
    assert not missing, "README table out of date:\n" + "\n".join(missing)
