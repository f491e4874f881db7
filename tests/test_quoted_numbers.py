"""Every number the README and docs/ quote from a result comes from a committed table, and says
what the table says: `tests/quoted_numbers.csv` lists each quote (the file, the exact text, the
table, the row, the column, and how the number is written), and this test finds each in its file
and its table. The tables (sim/data/evidence/) name the command that made them."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
QUOTES = Path(__file__).with_name("quoted_numbers.csv")
TABLES = ROOT / "sim" / "data" / "evidence"


def _quotes() -> list[dict[str, str]]:
    with QUOTES.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _row(table: pd.DataFrame, where: str) -> pd.Series:
    """The one row whose columns hold the values `where` names (`step=hotline - whistle;...`)."""
    mask = pd.Series(True, index=table.index)
    for part in where.split(";"):
        key, _, value = part.partition("=")
        mask &= table[key.strip()].astype(str) == value.strip()
    rows = table[mask]
    assert len(rows) == 1, f"{where}: {len(rows)} rows"
    return rows.iloc[0]


@pytest.mark.parametrize("quote", _quotes(), ids=lambda q: f"{q['file']}:{q['quote'][:40]}")
def test_a_quoted_number_is_its_tables(quote: dict[str, str]) -> None:
    text = (ROOT / quote["file"]).read_text(encoding="utf-8")
    assert quote["quote"] in text, f"{quote['file']} no longer says: {quote['quote']}"
    table = pd.read_csv(TABLES / quote["table"])
    value = float(_row(table, quote["where"])[quote["column"]]) * float(quote["scale"] or 1)
    written = format(value, quote["format"])
    assert written in quote["quote"], f"{quote['table']} gives {written}: {quote['quote']}"


def test_every_table_names_the_command_that_made_it() -> None:
    lines = (TABLES / "README.md").read_text(encoding="utf-8").splitlines()
    for table in sorted(TABLES.glob("*.csv")):
        assert any(f"`{table.name}`" in line and re.search(r"`govsim [^`]+`", line)
                   for line in lines), f"{table.name}: no line of sim/data/evidence/README.md " \
                                       "names it with its command"
    assert {q["table"] for q in _quotes()} <= {t.name for t in TABLES.glob("*.csv")}


def test_the_evidence_pages_show_their_tables() -> None:
    """docs/evidence.md's and docs/calibration.md's results sections are what
    `python -m sim.evidence.docs` writes from the shipped tables."""
    from sim.evidence import docs

    for page in docs.PAGES:
        current = page.read_text(encoding="utf-8")
        assert docs.render(current) == current, f"{page.name}: run `python -m sim.evidence.docs`"
