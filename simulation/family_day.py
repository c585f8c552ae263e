"""Day-level nuisances of family teams: time zones, planning meetings, crunch, and leavers.

Only teams with knobs (simulation/knobs.py) come here, so the demo's days are untouched. Draws
use the engine's `aux` stream, never the demo's.
"""

from __future__ import annotations

from datetime import timedelta

from .engine import Day, Engine, TeamState, at_time


def adjust_day(e: Engine, d: Day) -> Day:
    """Shift a planned day to the person's time zone and add the day's nuisances.

    The plan is made on a UTC clock; an offset moves the whole day (start, lunch, meetings) so
    that 09:00 local stays 09:00 local. Planning months add two 90-minute planning sessions a
    week (invisible in tools, like any meeting); a crunch day runs 45 minutes longer."""
    if e.reg.planning and e.day.weekday() in (1, 3):
        s = at_time(e.day, 13)
        dur = timedelta(minutes=90)
        d.meetings = [m for m in d.meetings if m[0] + m[1] <= s or m[0] >= s + dur]
        d.meetings.append((s, dur, True))
        d.meetings.sort()
    if e.reg.crunch:
        d.end += timedelta(minutes=45)
    offset = timedelta(minutes=e.org.person(d.pid).tz_offset_min)
    if offset:
        d.t, d.end = d.t - offset, d.end - offset
        d.meetings = [(s - offset, dur, m) for s, dur, m in d.meetings]
        d.offset = offset
    return d


def hand_over(e: Engine, st: TeamState) -> None:
    """When engineers leave, their tickets go to those who stay, as a lead would arrange."""
    gone = {p for p in st.engineers if e.org.person(p).left_on == e.day}
    if not gone:
        return
    staying = [p for p in st.engineers if e.org.person(p).active_on(e.day)]
    if not staying:
        return
    for pid in gone:
        ticket = st.doing.pop(pid, None)
        if ticket is not None:
            ticket.owner = None
            st.backlog.insert(0, ticket)
        for queue in (st.rework, st.to_merge):
            for ticket in queue.pop(pid, []):
                ticket.owner = e.aux.choice(staying)
                queue.setdefault(ticket.owner, []).append(ticket)
        st.reminded.pop(pid, None)
    for ticket in list(st.in_review):
        if ticket.owner in gone:
            ticket.owner = e.aux.choice(staying)
        ticket.pending_reviewers = [r for r in ticket.pending_reviewers if r not in gone]
        if not ticket.pending_reviewers:
            others = [p for p in staying if p != ticket.owner]
            if ticket.approved_by or not others:
                st.in_review.remove(ticket)
                st.to_merge.setdefault(ticket.owner, []).append(ticket)
            else:
                ticket.pending_reviewers = [e.aux.choice(others)]
