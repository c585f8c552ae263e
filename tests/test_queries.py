"""Every query in docs/queries.md runs on a database built from the simulated organization and
answers its question with at least one row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from simulated import simulated_config

QUERIES_MD = Path(__file__).resolve().parent.parent / "docs" / "queries.md"
SECTION = re.compile(r"^## (\d+)\. (.+?)\n(.*?)(?=^## |\Z)", re.S | re.M)
SQL = re.compile(r"```sql\n(.*?)```", re.S)


def cookbook() -> list[tuple[str, str]]:
    found = []
    for number, question, body in SECTION.findall(QUERIES_MD.read_text(encoding="utf-8")):
        (query,) = SQL.findall(body)
        found.append((f"{number}. {question}", query))
    return found


def test_ten_questions() -> None:
    assert len(cookbook()) == 10


@pytest.mark.slow
@pytest.mark.parametrize(("question", "query"), cookbook(), ids=[q[:40] for q, _ in cookbook()])
def test_query_answers(question: str, query: str, run_cli) -> None:
    """Run as the page says, with `processhealth sql` (a query that command refuses, such as a
    pivot without its column list, fails here: new-user review)."""
    config = simulated_config(7, "small")
    result = run_cli(config.path, "sql", query, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows, f"{question} returned nothing"


@pytest.mark.slow
def test_last_month_is_the_latest_month_that_is_over(run_cli) -> None:
    """Run on a day inside the data (current_date replaced), every query leaves out the month
    that day falls in: a cron run on the 1st holds a few hours of it (SQL-user review: questions
    2, 3 and 6 returned it). Question 8 lists no item that is done."""
    config = simulated_config(7, "small")
    result = run_cli(config.path, "sql", "SELECT max(month)::VARCHAR FROM metric_team_months",
                     "--format", "json")
    [latest] = json.loads(result.stdout)[0].values()
    today = f"DATE '{latest[:7]}-15'"
    checked = 0
    for question, query in cookbook():
        if "current_date" not in query:
            continue
        result = run_cli(config.path, "sql", query.replace("current_date", today),
                         "--format", "json")
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        assert rows, question
        months = [r["month"][:7] for r in rows if "month" in r]
        assert all(m < latest[:7] for m in months), (question, sorted(set(months)))
        checked += bool(months)
        if question.startswith("8."):
            assert all(r["status_category"] != "done" for r in rows)
            checked += 1
    assert checked >= 5
