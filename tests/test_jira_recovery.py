"""The Jira collector where time and interruptions could make it lose an issue, end to end
through the `jira` library against the emulator: a cursor in the repeated hour of a DST
fall-back, a run stopped while Data Center's shifted search is read again, and a 429 whose
Retry-After is longer than the library waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from shared_cache import shared_org
from test_jira_collect import EditedWhilePaging, collect, stored
from test_jira_emulator import EMAIL, LONG_SPEC, TOKEN

from collectors import jira, jira_client
from collectors import jira_rows as rows
from collectors.clock import ScaledClock
from processhealth.config_models import JiraConfig
from processhealth.errors import SourceError
from processhealth.store import RawStore
from simulation import jira_api as japi
from simulation.jira_emulator import JiraEmulator, minimum_requests
from simulation.server import Faults, serve

NEW_YORK = ZoneInfo("America/New_York")
FALL_BACK = datetime(2026, 11, 1, 5, 0, tzinfo=UTC)  # 02:00 EDT -> 01:00 EST: 01:00-01:59 twice
SCALE = 0.001  # rate-limit tests: Jira's seconds on a clock 1000 times faster


@pytest.fixture(autouse=True)
def credentials(monkeypatch):
    monkeypatch.setenv("JIRA_EMAIL", EMAIL)
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)


@pytest.fixture
def org():
    """A copy of its own per test (the tests edit it): of one generated once per run."""
    return shared_org(7, LONG_SPEC)


@pytest.mark.parametrize("flavour", ["cloud", "datacenter"])
def test_a_cursor_in_the_first_of_two_dst_hours_loses_no_update(org, tmp_path, flavour):
    """Jira reads a JQL wall time of the repeated hour as its second, standard-time instant
    (SimpleDateFormat's calendar; the emulator does the same). A cursor at 01:30 EDT written as
    "01:30" is read as 01:30 EST, an hour later: an issue edited at 01:50 EDT, after the run,
    was never searched for. The cursor is written from before the repeated hour instead."""
    raw = tmp_path / "raw.duckdb"
    issues = [i for i in org.jira.issues if i.project == "ATL"]
    newest, edited = issues[0], issues[1]
    newest.updated = FALL_BACK + timedelta(minutes=30)  # 01:30 EDT: the next run's cursor
    emulator = JiraEmulator(org, TOKEN, flavour=flavour, time_zone="America/New_York")
    with serve(emulator) as served:
        collect(served.url, raw, projects=["ATL"])
        with RawStore(raw, read_only=True) as store:
            assert store.get_cursor("jira", "issues", "ATL").startswith("2026-11-01T05:30")
        edited.summary = "edited at 01:50 EDT"
        edited.updated = FALL_BACK + timedelta(minutes=50)
        emulator.reload()
        emulator.stats.reset()
        collect(served.url, raw, projects=["ATL"])
    assert stored(raw)[edited.key]["fields"]["summary"] == "edited at 01:50 EDT"
    searched = [line for line in emulator.stats.log if "/search" in line]
    assert len(searched) == 1  # one page: the hour read again costs no more requests here


def test_jql_times_step_back_only_in_the_first_of_two_hours():
    at = FALL_BACK + timedelta(minutes=30)
    assert jira.jql_time(at - timedelta(hours=1), NEW_YORK) == "2026-11-01 00:30"  # EDT, once
    assert jira.jql_time(at, NEW_YORK) == "2026-11-01 00:30"  # 01:30 EDT: from before 01:00
    assert jira.jql_time(at + timedelta(minutes=29, seconds=30), NEW_YORK) == "2026-11-01 00:59"
    assert jira.jql_time(at + timedelta(hours=1), NEW_YORK) == "2026-11-01 01:30"  # 01:30 EST
    assert jira.jql_time(at + timedelta(hours=2), NEW_YORK) == "2026-11-01 02:30"
    assert jira.jql_time(at, ZoneInfo("UTC")) == "2026-11-01 05:30"


class StoppedWhileSearchingAgain(EditedWhilePaging):
    """Data Center, an issue of the first page edited after it is served (EditedWhilePaging),
    and the first search of the project again (the second pass, `updated >= ...`) answered
    with a body cut in half, once: the run stops there, as a run killed in that pass."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stopped = False

    def on_search(self, request, api):
        response = super().on_search(request, api)
        if not self.stopped and "updated >=" in request.args.get("jql", ""):
            self.stopped = True
            response.set_data(response.get_data()[: len(response.get_data()) // 2])
        return response


def test_a_run_stopped_while_data_center_searches_again_resumes_without_loss(org, tmp_path):
    """Data Center pages by startAt; an issue of page one edited meanwhile moves to the end and
    the issue at the next page's start is never served (Atlassian KB "Inconsistent paginated API
    search result while using JQL"). The shift shows only when the edited issue comes again at
    the end, and the project is then searched again. The pages read before were saved with
    checkpoints past the hidden issue: a run stopped (or killed) before the second pass reached
    it left a checkpoint from which the next run never searched for it."""
    raw = tmp_path / "raw.duckdb"
    atl = sorted((i for i in org.jira.issues if i.project == "ATL"),
                 key=lambda i: (i.updated, int(i.key.split("-")[1])))
    hidden = atl[10]  # at the start of page two, which the edit shifts up one place
    emulator = StoppedWhileSearchingAgain(org, TOKEN, page_cap=10)
    with serve(emulator) as served:
        with pytest.raises(SourceError, match="unreadable answer .* resumes"):
            collect(served.url, raw, auth="pat", projects=["ATL"])
        assert emulator.stopped and emulator.edited is atl[0]
        assert hidden.key not in stored(raw)  # the shift hid it from the first pass
        with RawStore(raw, read_only=True) as store:
            cursor = store.get_cursor("jira", "issues", "ATL")
        assert cursor is None or rows.parse_time(cursor) <= hidden.updated
        collect(served.url, raw, auth="pat", projects=["ATL"])
    issues = stored(raw)
    assert sorted(issues) == sorted(i.key for i in atl)
    assert all(issues[i.key]["fields"]["updated"] == japi.jira_time(i.updated) for i in atl)
    assert issues[atl[0].key]["fields"]["summary"] == "edited while paging"
    with RawStore(raw, read_only=True) as store:
        assert rows.parse_time(store.get_cursor("jira", "issues", "ATL")) == atl[0].updated


@pytest.fixture
def limited(org, monkeypatch):
    """Cloud whose 7th request starts a rate limit that lasts 300 s and says so (Retry-After:
    300), all 1000 times faster: the emulator's limit lasts 0.3 s, the collector's clock sleeps
    300 s in 0.3 s, and the library's own longest wait (60 s) is 0.06 s."""
    monkeypatch.setattr(jira_client, "MAX_RETRY_DELAY", 60 * SCALE)
    emulator = JiraEmulator(org, TOKEN, time_scale=SCALE)
    emulator.faults.rate_limit_after = 6
    emulator.faults.rate_limit_reset = 300 * SCALE
    with serve(emulator) as served:
        yield emulator, served.url


def collect_on(url: str, raw, **settings) -> None:
    with RawStore(raw) as store:
        jira.collect(JiraConfig(enabled=True, base_url=url, **settings), store,
                     clock=ScaledClock(SCALE))


def test_a_retry_after_longer_than_the_library_waits_is_waited_out_and_said(
        org, tmp_path, limited, capsys):
    """Jira's 429 says in Retry-After how long to wait, and a request sent earlier "will fail
    and return the same or longer Retry-After period" (Atlassian, Jira Cloud "Rate limiting").
    The jira library waits min(60, 2 x Retry-After) x 0.5-1 s (resilientsession __recoverable):
    told 300 s, it asked again within a minute, three times, then the collection stopped. Now
    the collector waits as told, once, and says why it waits."""
    emulator, url = limited
    collect_on(url, tmp_path / "raw.duckdb")
    assert len(stored(tmp_path / "raw.duckdb")) == len(org.jira.issues)
    assert emulator.stats.total == sum(minimum_requests(org, "cloud").values()) + 1  # one 429
    said = capsys.readouterr().err
    assert "asked to wait 300 s (Retry-After); waiting until" in said


def test_a_retry_after_longer_than_max_rate_limit_wait_stops_without_asking_again(
        org, tmp_path, limited):
    emulator, url = limited
    raw = tmp_path / "raw.duckdb"
    with pytest.raises(SourceError, match=r"asked to wait 300 s \(Retry-After\), longer than "
                                          r"\[jira\] max_rate_limit_wait = 60 s allows.*"
                                          r"run `processhealth collect` again after"):
        collect_on(url, raw, max_rate_limit_wait=60)
    assert emulator.stats.total == 7  # the 429 was not followed by an early request
    emulator.faults = Faults()
    collect_on(url, raw, max_rate_limit_wait=60)
    assert len(stored(raw)) == len(org.jira.issues)
