"""One team's part of the monthly report: verdict, allocation, overhead, flow, process signals.

Each function returns a plain dict for the template. A view or column a section reads that the
database lacks is an error naming it (reports.db), never a section silently left out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from reports import charts
from reports import format as fmt
from reports.db import AnalyticsDB
from reports.metrics import (
    DELIVERY,
    FLOW_EFFICIENCY,
    FLOW_FIGURES,
    OVERHEAD,
    OVERHEAD_BASELINE,
    OVERHEAD_CHANGE,
    PROCESS_SIGNALS,
    is_suppressed,
    month_series,
    shown,
)

CATEGORIES = charts.CATEGORY_ORDER
VERDICT_WORDS = {
    "amplifier": ("Amplifier", "The process amplifies the product: overhead did not rise, and "
                  "customer delivery or review waits surely improved."),
    "neutral": ("Neutral", "Neither verdict applies: the process is not clearly amplifying "
                "customer work, nor displacing it."),
    "process_is_product": ("The process has become the product",
                           "Process overhead rose above the team's own baseline (or held while "
                           "people's process work followed reminders naming them), with work "
                           "about work to show for it (work that followed such reminders, work "
                           "on items never delivered, or fewer customer items): the process is "
                           "producing work of its own."),
    "insufficient_data": ("Insufficient data",
                          "Too few people or too few weeks of activity behind this month to "
                          "give a verdict."),
}
NO_BASELINE_WORDS = ("No baseline yet", "This is the team's first month with enough people (or "
                     "every earlier month was a rise), so there is no earlier month to compare "
                     "with: no verdict can be given yet.")
# signal -> (words, unit of value and threshold as health_signals stores them)
SIGNAL_WORDS = {
    "overhead_rise_pp": ("Overhead ratio rise over the baseline", "points"),
    "customer_throughput_change": ("Customer items per person, change against the baseline",
                                   "%"),
    "customer_lead_time_change": ("Customer lead time, change against the baseline", "%"),
    "pr_pickup_change": ("Pull-request pickup time, change against the baseline", "%"),
    "prompted_share_rise_pp": ("Share of process work that followed a reminder (team-months: "
                               "one naming the person), rise", "points"),
    "process_coupling_change_pp": ("Process coupling, change against the baseline", "points"),
    "best_performer_engagement": ("Best-performer engagement (ratio of adoption rates)", "ratio"),
    "paperwork_ratio": ("Paperwork ratio", "share"),  # databases built before issue 17
    "process_coupling": ("Process coupling", "share"),
}
RULE_WORDS = {"process_is_product": "Process has become the product", "amplifier": "Amplifier"}


def window(month: date, months: int) -> list[date]:
    """The `months` month starts ending with `month`."""
    out = []
    y, m = month.year, month.month
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _chart_rows(series: dict[date, tuple[Any, bool]], name: str, months: list[date]) -> list:
    return [
        {"month": fmt.month_short(m), "order": i, "series": name, "value": series[m][0]}
        for i, m in enumerate(months)
        if m in series and not series[m][1] and not fmt.missing(series[m][0])
    ]


def verdict(db: AnalyticsDB, team: str, month: date, min_group: int) -> dict[str, Any]:
    db.require("health_verdicts", "team", "month", "verdict", "reason", "people_count",
               "baseline_months")
    row = db.one("SELECT * FROM health_verdicts WHERE team = ? AND month::DATE = ?",
                 [team, month])
    if row is None:
        return {"code": "insufficient_data", "label": VERDICT_WORDS["insufficient_data"][0],
                "sentence": "No verdict was computed for this month.", "signals": []}
    code, reason = row["verdict"], row.get("reason")
    if is_suppressed(row, min_group):
        code, reason = "insufficient_data", f"Fewer than {min_group} people were active."
    label, sentence = verdict_words(code, row.get("baseline_months"))
    return {"code": code, "label": label, "sentence": sentence, "reason": reason,
            "people": row.get("people_count"),
            "signals": [] if code == "insufficient_data" else
            verdict_signals(db, "health_signals", "team = ? AND month::DATE = ?", [team, month],
                            code, too_few=engagement_too_few(db, team))}


def engagement_too_few(db: AnalyticsDB, team: str, change: str | None = None) -> set[str]:
    """{"best_performer_engagement"} when the team's adoption figures (of `change`, or of every
    recorded change) leave engagement out for too few people (metric_adoption
    engagement_suppressed): the signal then reads "too few people", not "no data"."""
    rows = [r for r in db.view_rows("metric_adoption",
                                    columns=("change", "team", "engagement_suppressed"))
            if r["team"] == team and (change is None or r["change"] == change)]
    return {"best_performer_engagement"} if rows and all(
        r["engagement_suppressed"] for r in rows) else set()


def verdict_words(code: str, baseline_months: Any) -> tuple[str, str]:
    """(label, sentence) of a verdict. A neutral month without baseline months says "No baseline
    yet": nothing to compare with is not the same as a process that neither helps nor hurts
    (health_verdicts keeps the value neutral; docs/metrics.md section 9)."""
    if code == "neutral" and not baseline_months:
        return NO_BASELINE_WORDS
    return VERDICT_WORDS.get(code, (str(code).replace("_", " "), ""))


def verdict_signals(db: AnalyticsDB, table: str, where: str, params: list, code: str,
                    too_few: set[str] | frozenset[str] = frozenset()) -> list:
    """One row per signal: its value (and interval) beside each rule's threshold.

    For an amplifier or process-is-product verdict only the deciding rule's signals are shown;
    otherwise the signals of both rules, so a reader sees how far each verdict was. A signal in
    `too_few` without a value rests on too few people and says so."""
    db.require(table, "rule", "signal", "value", "low", "high", "threshold", "direction", "met")
    rows = db.rows(f"SELECT * FROM {table} WHERE {where}", params)
    if code in RULE_WORDS:
        rows = [r for r in rows if r["rule"] == code]
    order = list(SIGNAL_WORDS)
    by_signal: dict[str, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (order.index(r["signal"]) if r["signal"] in order
                                         else len(order), r["rule"])):
        label, unit = SIGNAL_WORDS.get(r["signal"], (r["signal"].replace("_", " "), ""))
        value = fmt.TOO_FEW if r["signal"] in too_few and fmt.missing(r["value"]) else \
            signal_value(r["value"], unit)
        entry = by_signal.setdefault(r["signal"], {
            "label": label, "value": value,
            "interval": "" if fmt.missing(r.get("low")) or fmt.missing(r.get("high")) else
            f"{signal_value(r['low'], unit)} to {signal_value(r['high'], unit)}",
            "rules": []})
        entry["rules"].append({
            "rule": RULE_WORDS.get(r["rule"], r["rule"]),
            "test": f"{r['direction']} {signal_value(r['threshold'], unit)}",
            "met": r["met"] if not fmt.missing(r["value"]) else None,
        })
    return list(by_signal.values())


def signal_value(value: Any, unit: str) -> str:
    if fmt.missing(value):
        return fmt.NO_DATA
    if unit == "points":
        return fmt.signed(value, "pp")
    if unit == "%":
        return f"{value * 100:+.0f}%"
    if unit == "share":
        return fmt.pct(value)
    return f"{value:.2f}"


def allocation(db: AnalyticsDB, team: str, months: list[date], min_group: int) -> dict:
    view = "metric_effort_allocation"
    rows = db.team_rows(view, team, (months[0], months[-1]),
                        ("category", "hours", "fte", "share", "people_count"))
    by_month: dict[date, list[dict]] = {}
    for r in rows:
        by_month.setdefault(_as_date(r["month"]), []).append(r)
    chart_rows, suppressed_months = [], []
    for i, m in enumerate(months):
        found = by_month.get(m, [])
        if any(is_suppressed(r, min_group) for r in found):
            suppressed_months.append(fmt.month_short(m))
            continue
        chart_rows += [
            {"month": fmt.month_short(m), "order": i, "category": r["category"],
             "category_order": CATEGORIES.index(r["category"]) if r["category"] in CATEGORIES
             else 9, "share": r["share"] or 0}
            for r in found
        ]
    current = by_month.get(months[-1], [])
    table = [
        {"category": r["category"],
         "hours": shown_alloc(fmt.hours, r["hours"], r, min_group),
         "fte": shown_alloc(fmt.fte, r["fte"], r, min_group),
         "share": shown_alloc(fmt.pct, r["share"], r, min_group)}
        for r in sorted(current, key=lambda r: _category_rank(r["category"]))
    ]
    people = max((r.get("people_count") or 0 for r in current), default=None)
    chart = None
    if chart_rows:
        chart = charts.allocation_chart(
            chart_rows, f"Where {team}'s effort went, month by month",
            f"Share of credited effort per category, {fmt.month_short(months[0])} to "
            f"{fmt.month_short(months[-1])}")
    return {"chart": chart, "table": table, "people": people,
            "suppressed_months": suppressed_months}


def shown_alloc(formatter: Any, value: Any, row: dict, min_group: int) -> str:
    return fmt.TOO_FEW if is_suppressed(row, min_group) else formatter(value)


def _category_rank(category: str) -> int:
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


def _as_date(value: Any) -> date:
    return value if type(value) is date else value.date()


def overhead(db: AnalyticsDB, team: str, months: list[date], min_group: int) -> dict:
    ratio = month_series(db, OVERHEAD, team, months, min_group)
    baseline = month_series(db, OVERHEAD_BASELINE, team, months, min_group)
    change = month_series(db, OVERHEAD_CHANGE, team, months, min_group)
    month = months[-1]
    rows = _chart_rows(ratio, "overhead ratio", months)
    # a month without earlier months has no baseline: draw no point there (not one at 0%)
    with_baseline = {_as_date(r["month"]) for r in db.team_rows(
        OVERHEAD_BASELINE.view, team, (months[0], months[-1]), ("baseline_months",))
        if r["baseline_months"]}
    rows += _chart_rows({m: v for m, v in baseline.items() if m in with_baseline and
                         not fmt.missing(v[0])}, "baseline (the verdict's)", months)
    chart = None
    if rows:
        chart = charts.line_chart(
            rows, f"{team}: process overhead against its own baseline",
            "Process effort / (customer + enabling + process effort), per month",
            "Overhead ratio", y_format="%", series_title="Line")
    return {
        "chart": chart,
        "current": shown(OVERHEAD, *ratio.get(month, (None, False))),
        "baseline": shown(OVERHEAD_BASELINE, *baseline.get(month, (None, False))),
        "change": shown(OVERHEAD_CHANGE, *change.get(month, (None, False))),
    }


def flow(db: AnalyticsDB, team: str, months: list[date], min_group: int) -> dict:
    eff = month_series(db, FLOW_EFFICIENCY, team, months, min_group)
    out: dict[str, Any] = {"cards": _cards(db, (*FLOW_FIGURES, *DELIVERY), team, months,
                                           min_group)}
    out["efficiency"] = shown(FLOW_EFFICIENCY, *eff.get(months[-1], (None, False)))
    rows = _chart_rows(eff, "median flow efficiency", months)
    if rows:
        out["efficiency_chart"] = charts.line_chart(
            rows, f"{team}: flow efficiency of items resolved each month",
            "Median over items of time in active statuses / flow time",
            "Flow efficiency", y_format="%", series_title="Line",
            rule=0.4, rule_label="~40%: typical of mature flow (context, not a target)")
    out.update(_pr_cycle(db, team, months[-1], min_group))
    return out


def _cards(db: AnalyticsDB, figures: tuple, team: str, months: list[date],
           min_group: int) -> list[dict[str, Any]]:
    cards = []
    for figure in figures:
        series = month_series(db, figure, team, months, min_group)
        cards.append({"label": figure.label, "explain": figure.explain,
                      "value": shown(figure, *series.get(months[-1], (None, False))),
                      "better": figure.better})
    return cards


PR_STAGES = (("coding", "Coding"), ("pickup", "Pickup"), ("review", "Review"),
             ("deploy", "Deploy"))


def _pr_cycle(db: AnalyticsDB, team: str, month: date, min_group: int) -> dict:
    view = "metric_pr_cycle"
    columns = [f"{q}_{stage}_hours" for stage, _ in PR_STAGES for q in ("median", "p75")]
    row = next((r for r in db.view_rows(view, (month, month), ("team", "prs_merged",
                                                               "self_merged_share", *columns))
                if r["team"] == team), None)
    # metric_pr_cycle has a row per team-month (none: nobody active); suppression comes before
    # "none merged", a count of a few people too
    if row is None or is_suppressed(row, min_group):
        return {"pr_suppressed": True}
    if not row.get("prs_merged"):
        return {"pr_none": True}
    data = [
        {"stage": label, "order": i, "median_hours": row[f"median_{key}_hours"],
         "p75_hours": row[f"p75_{key}_hours"]}
        for i, (key, label) in enumerate(PR_STAGES)
        if not fmt.missing(row[f"median_{key}_hours"])
    ]
    table = [{"stage": label, "median": fmt.duration_hours(row[f"median_{key}_hours"]),
              "p75": fmt.duration_hours(row[f"p75_{key}_hours"])} for key, label in PR_STAGES]
    chart = None
    if data:
        chart = charts.stage_chart(
            data, f"{team}: where merged pull requests spend their time",
            f"{fmt.count(row['prs_merged'], 'pull request')} merged in "
            f"{fmt.month_label(month)}; hours per stage")
    return {"pr_chart": chart, "pr_table": table,
            "prs": fmt.count(row["prs_merged"], "pull request"),
            "self_merged": fmt.pct(row.get("self_merged_share"))}


def process_signals(db: AnalyticsDB, team: str, months: list[date], min_group: int) -> dict:
    cards = _cards(db, PROCESS_SIGNALS, team, months, min_group)
    chart_rows: list[dict[str, Any]] = []
    for figure in PROCESS_SIGNALS:
        series = month_series(db, figure, team, months, min_group)
        if figure.unit == "share":
            chart_rows += _chart_rows(series, figure.label, months)
    chart = None
    if chart_rows:
        chart = charts.line_chart(
            chart_rows, f"{team}: process signals month by month",
            "Shares of activity; see the definitions beside the chart",
            "Share", y_format="%", series_title="Signal")
    return {"cards": cards, "chart": chart}


def process_items(db: AnalyticsDB, team: str, month: date, suppressed: bool) -> dict:
    """The work items that drew the most process effort from the team this month."""
    view = "metric_process_items"
    db.require(view, "team", "month", "key", "title", "url", "source", "events", "hours", "rank")
    if suppressed:
        return {"suppressed": True}
    top = db.rows_by_team(  # every team's top five at once: one read of the month's rows
        f"""
        SELECT team, key, title, url, source, events, hours FROM {view}
        WHERE month = ? AND rank <= 5
        ORDER BY team, hours DESC, events DESC, key
        """, [month])
    rows = top.get(team, [])
    return {"rows": [
        {"key": r["key"], "title": r["title"] or "", "url": safe_url(r["url"]),
         "events": fmt.count(r["events"], "event"), "hours": fmt.hours(r["hours"])}
        for r in rows]}


def safe_url(url: str | None) -> str | None:
    """Only plain web links become clickable; anything else (javascript:, data:) stays text."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None
