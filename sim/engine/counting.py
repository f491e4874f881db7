"""Counting final problems: the ledger's integer counts (`sim.ledger.Counts`), one problem at a
time, compiled (numpy's one pass per measure cost more than the day's events on a 1:1 history).

A problem's row is plain (`sim.ledger.problem_rows`: labels as codes, flags -1/0/1, times from
the measured start). It is counted by the day of its occurrence, its entry and its closing
(each `floor(hours / 24)`, as every table counts days; a time outside the measured days, or
none, is not counted by day), by district and category, and in the run's totals.
"""

from __future__ import annotations

import math

import numpy as np

from sim.cases import (
    CLOSED_UNRESOLVED,
    DEPT_LINE,
    HOTLINE,
    INSPECTION,
    PATROL,
    PREVENTED,
    RESOLVED,
    STREET_LINE,
)
from sim.engine.compile import kernel

# Measures of the counts by day (`by_day[day, district, measure]`): by the day of occurrence ...
(OCCURRED, PREVENTED_DAY,
 # ... of entry: residents' requests, 12345 tickets, departments' own lines, found ...
 REQUESTS, HOTLINE_TICKETS, DEPT_LINE_TICKETS, FOUND,
 # ... and of closing: resolved, not; verdicts (satisfied, known); of tickets, the callback's
 # (resolved, satisfied, responded: each yes and known); of tickets less unreasonable ones
 RESOLVED_DAY, UNRESOLVED_DAY, SATISFIED, VERDICTS, TICKETS_CLOSED,
 TICKET_RESOLVED, TICKET_CALLBACKS, TICKET_SATISFIED, TICKET_VERDICTS, TICKET_RESPONDED,
 TICKET_RESPONSES, SCORED_RESOLVED, SCORED_CALLBACKS, SCORED_SATISFIED,
 SCORED_VERDICTS,
 # ... and again by the day of occurrence: resolved at all, resolved within a week of it (a
 # period's share of problems resolved within 7 days, counted: `sim.evidence.counterfactual`)
 RESOLVED_OF_DAY, WEEK_OF_DAY) = np.arange(23, dtype=np.int64)
DAY_MEASURES = 23
#: Hours within which a problem counts in `WEEK_OF_DAY`.
WEEK_H = 24.0 * 7
#: Measures by day and category (`by_category[day, category, measure]`): requests entered (by
#: day of entry), problems that arose (not prevented; by day of occurrence).
CATEGORY_REQUESTS, CATEGORY_AROSE = np.arange(2, dtype=np.int64)
#: Measures by district (run totals): problems, requests entered, found by a patrol or an
#: inspection (entered or not), resolved.
D_OCCURRED, D_REQUESTS, D_FOUND, D_RESOLVED = np.arange(4, dtype=np.int64)
#: The run's totals (`totals[i]`), then one per outcome.
TOTALS = ("problems", "requests_entered", "found", "hotline", "entered", "reached", "responded",
          "handoffs", "bounces", "bounced", "whistled", "overdue", "requests_owned",
          "to_street")
(T_PROBLEMS, T_REQUESTS_ENTERED, T_FOUND, T_HOTLINE, T_ENTERED, T_REACHED, T_RESPONDED,
 T_HANDOFFS, T_BOUNCES, T_BOUNCED, T_WHISTLED, T_OVERDUE, T_OWNED, T_TO_STREET,
 T_OUTCOMES) = np.arange(15, dtype=np.int64)


@kernel
def day_of(hours, days):
    """The day of `hours` (0 .. days - 1), or -1: outside, or none (NaN)."""
    day = np.floor(hours / 24.0)
    if not (day >= 0.0 and day < days):
        return -1
    return int(day)


@kernel
def _count_closing(by_day, day, district, outcome, channel, satisfied, callback_resolved,
                   responded, unreasonable):
    """A closed case by its closing day: resolved or not, the verdict, a ticket's callback."""
    if outcome == RESOLVED:
        by_day[day, district, RESOLVED_DAY] += 1
    else:
        by_day[day, district, UNRESOLVED_DAY] += 1
    if satisfied >= 0:
        by_day[day, district, VERDICTS] += 1
        if satisfied > 0:
            by_day[day, district, SATISFIED] += 1
    if channel != HOTLINE:
        return
    by_day[day, district, TICKETS_CLOSED] += 1
    _flag(by_day, day, district, callback_resolved, TICKET_RESOLVED, TICKET_CALLBACKS)
    _flag(by_day, day, district, satisfied, TICKET_SATISFIED, TICKET_VERDICTS)
    _flag(by_day, day, district, responded, TICKET_RESPONDED, TICKET_RESPONSES)
    if not unreasonable:
        _flag(by_day, day, district, callback_resolved, SCORED_RESOLVED, SCORED_CALLBACKS)
        _flag(by_day, day, district, satisfied, SCORED_SATISFIED, SCORED_VERDICTS)


@kernel
def _flag(by_day, day, district, flag, yes, known):
    if flag >= 0:
        by_day[day, district, known] += 1
        if flag > 0:
            by_day[day, district, yes] += 1


@kernel
def count_problems(counts, rows):
    """Count plain problem rows: `counts` is (by_day, by_category, by_district, totals),
    `rows` the columns district, category, occurred_h, entered_h, channel, closed_h, outcome,
    responded, callback_resolved, satisfied, unreasonable."""
    by_day, by_category, by_district, totals = counts
    (district, category, occurred_h, entered_h, channel, closed_h, outcome, responded,
     callback_resolved, satisfied, unreasonable) = rows
    days = by_day.shape[0]
    for i in range(len(outcome)):
        d, oc, ch = np.int64(district[i]), np.int64(outcome[i]), np.int64(channel[i])
        request = ch == STREET_LINE or ch == DEPT_LINE or ch == HOTLINE
        found = ch == PATROL or ch == INSPECTION
        entered = not math.isnan(entered_h[i])
        day = day_of(occurred_h[i], days)
        if day >= 0:
            by_day[day, d, OCCURRED] += 1
            if oc == PREVENTED:
                by_day[day, d, PREVENTED_DAY] += 1
            else:
                by_category[day, category[i], CATEGORY_AROSE] += 1
            if oc == RESOLVED:
                by_day[day, d, RESOLVED_OF_DAY] += 1
                if closed_h[i] - occurred_h[i] <= WEEK_H:
                    by_day[day, d, WEEK_OF_DAY] += 1
        day = day_of(entered_h[i], days)
        if day >= 0:
            if request:
                by_day[day, d, REQUESTS] += 1
                by_category[day, category[i], CATEGORY_REQUESTS] += 1
            if ch == HOTLINE:
                by_day[day, d, HOTLINE_TICKETS] += 1
            elif ch == DEPT_LINE:
                by_day[day, d, DEPT_LINE_TICKETS] += 1
            elif found:
                by_day[day, d, FOUND] += 1
        if (oc == RESOLVED or oc == CLOSED_UNRESOLVED) and not math.isnan(closed_h[i]):
            day = day_of(closed_h[i], days)
            if day >= 0:
                _count_closing(by_day, day, d, oc, ch, satisfied[i], callback_resolved[i],
                               responded[i], unreasonable[i])
        by_district[d, D_OCCURRED] += 1
        totals[T_PROBLEMS] += 1
        totals[T_OUTCOMES + oc] += 1
        if request and entered:
            by_district[d, D_REQUESTS] += 1
            totals[T_REQUESTS_ENTERED] += 1
        if found:
            by_district[d, D_FOUND] += 1
            totals[T_FOUND] += 1
        if oc == RESOLVED:
            by_district[d, D_RESOLVED] += 1
        if ch == HOTLINE:
            totals[T_HOTLINE] += 1


@kernel
def sum_handled(totals, rows, response_limit, dept_base):
    """The summary's totals of the entered cases: reached a unit (within the response limit),
    hand-offs, bounces, whistles, overdue; and of requests, the first unit's kind. `rows` is
    entered_h, channel, first_unit_h, owner_unit, handoffs, bounces, whistled, overdue."""
    entered_h, channel, first_unit_h, owner_unit, handoffs, bounces, whistled, overdue = rows
    for i in range(len(entered_h)):
        ch = channel[i]
        if (ch == STREET_LINE or ch == DEPT_LINE or ch == HOTLINE) and owner_unit[i] >= 0:
            totals[T_OWNED] += 1
            if owner_unit[i] < dept_base:
                totals[T_TO_STREET] += 1
        if math.isnan(entered_h[i]):
            continue
        totals[T_ENTERED] += 1
        if not math.isnan(first_unit_h[i]):
            totals[T_REACHED] += 1
            if first_unit_h[i] - entered_h[i] <= response_limit:
                totals[T_RESPONDED] += 1
        totals[T_HANDOFFS] += handoffs[i]
        totals[T_BOUNCES] += bounces[i]
        if bounces[i] > 0:
            totals[T_BOUNCED] += 1
        if whistled[i]:
            totals[T_WHISTLED] += 1
        if overdue[i]:
            totals[T_OVERDUE] += 1


@kernel
def count_below(values, bounds):
    """For each of `bounds` (ascending), how many of `values` (ascending) lie below it: one
    merge of the two, where a binary search per bound costs a cache miss per step."""
    out = np.empty(len(bounds), np.int64)
    i = 0
    n = len(values)
    for j in range(len(bounds)):
        b = bounds[j]
        while i < n and values[i] < b:
            i += 1
        out[j] = i
    return out


@kernel
def survival(events, censored):
    """The Kaplan-Meier steps of problems resolved after `events` hours and of problems
    watched `censored` hours and not resolved (both ascending): each distinct event time and
    the share resolved by then, `1 - prod(1 - deaths / at risk)` taken in time order."""
    n = len(events) + len(censored)
    steps = 0
    for i in range(len(events)):
        if i == 0 or events[i] != events[i - 1]:
            steps += 1
    hours = np.empty(steps)
    share = np.empty(steps)
    left = 1.0
    below = 0  # censored times below the current event time
    i = 0
    k = 0
    while i < len(events):
        t = events[i]
        j = i
        while j < len(events) and events[j] == t:
            j += 1
        while below < len(censored) and censored[below] < t:
            below += 1
        left *= 1.0 - (j - i) / (n - i - below)  # resolved at t, of those watched to t
        hours[k] = t
        share[k] = 1.0 - left
        k += 1
        i = j
    return hours, share


@kernel
def group_by_day(values, day, n):
    """`values` grouped by `day` (0 .. n - 1; others left out), in one pass, and where each
    day's group ends."""
    counts = np.zeros(n, np.int64)
    for i in range(len(day)):
        if 0 <= day[i] < n:
            counts[day[i]] += 1
    ends = np.cumsum(counts)
    at = ends - counts
    out = np.empty(ends[-1] if n else 0)
    for i in range(len(day)):
        d = day[i]
        if 0 <= d < n:
            out[at[d]] = values[i]
            at[d] += 1
    return out, ends


@kernel
def survival_at(events, censored, at, level):
    """`survival` read where the summary reads it, without keeping its steps: the share
    resolved within each of `at` (ascending) and the first time the share reaches `level`
    (NaN: never)."""
    n = len(events) + len(censored)
    within = np.zeros(len(at))
    reached = np.nan
    left = 1.0
    below = 0
    q = 0
    i = 0
    while i < len(events):
        t = events[i]
        j = i
        while j < len(events) and events[j] == t:
            j += 1
        while below < len(censored) and censored[below] < t:
            below += 1
        while q < len(at) and at[q] < t:  # the share within at[q]: the steps up to it
            within[q] = 1.0 - left
            q += 1
        left *= 1.0 - (j - i) / (n - i - below)
        if math.isnan(reached) and 1.0 - left >= level:
            reached = t
        i = j
    while q < len(at):
        within[q] = 1.0 - left
        q += 1
    return within, reached
