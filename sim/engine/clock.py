"""The event clock: events in hours since day 0, 00:00, run in order of time and then of scheduling.

SimPy's kernel (`Environment.step`: pop `(time, priority, id, event)`, run it) over arrays. An
event is `(time, seq, kind, case)`: `seq` counts events as they are scheduled, so ties run first
come, first served and a run is the same on every machine; `kind` names what happens (the
flow's stations) and `case` to which case.

The queue is a two-tier calendar rather than one heap, since most events are scheduled a day
or more ahead (relays, callbacks, reports) and a heap of all of them is deep:

- `later`: events due after the day being run, unsorted, in scheduling order;
- at the start of a day (`start_day`) those due before its end are sorted once into `today`,
  which is then read front to back;
- events scheduled during the day for the same day go into `soon`, a small binary heap.

The next event is the earlier of `today`'s front and `soon`'s top, so the order is exactly that
of a single heap ordered by (time, seq). A case has at most one event pending at a time, so no
part holds more entries than cases in flight; the model makes room before each day
(`with_room`), since a compiled function cannot grow an array.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.engine.compile import kernel, passed_by_reference

#: Positions in `Clock.counters`.
SOON, LATER, TODAY_END, TODAY_NEXT, NEXT_SEQ, EVENTS_RUN = range(6)
#: Positions in `Clock.now`: the time of the event being run, the end of the day being run.
NOW, UNTIL = 0, 1


class Clock(NamedTuple):
    soon_time: np.ndarray  # float64, a binary heap by (time, seq)
    soon_seq: np.ndarray  # int64
    soon_kind: np.ndarray  # int64
    soon_case: np.ndarray  # int64
    later_time: np.ndarray  # float64, in scheduling order
    later_seq: np.ndarray
    later_kind: np.ndarray
    later_case: np.ndarray
    today_time: np.ndarray  # float64, sorted by (time, seq); read from TODAY_NEXT
    today_seq: np.ndarray
    today_kind: np.ndarray
    today_case: np.ndarray
    counters: np.ndarray  # int64, see the positions above
    now: np.ndarray  # float64: NOW, UNTIL


#: The clock as kernels take it: one struct (`ClockRef`), by reference, over the same
#: arrays.
ref = passed_by_reference("Clock", Clock._fields, __name__,
                          "A `Clock` passed by reference.")


def _arrays(capacity: int) -> list[np.ndarray]:
    return [np.zeros(capacity), np.zeros(capacity, np.int64), np.zeros(capacity, np.int64),
            np.zeros(capacity, np.int64)]


def new_clock(capacity: int = 1024) -> Clock:
    return Clock(*_arrays(capacity), *_arrays(capacity), *_arrays(capacity),
                 np.zeros(6, np.int64), np.zeros(2))


def size(clock: Clock) -> int:
    """Events pending."""
    c = clock.counters
    return int(c[SOON] + c[LATER] + c[TODAY_END] - c[TODAY_NEXT])


def with_room(clock: Clock, more: int) -> Clock:
    """The clock with room for `more` events beyond those pending (the same clock if it has)."""
    need = size(clock) + more
    if need <= len(clock.soon_time):
        return clock
    capacity = max(need, len(clock.soon_time) * 3 // 2)
    c = clock.counters
    used = {"soon": int(c[SOON]), "later": int(c[LATER]), "today": int(c[TODAY_END])}
    grown = []
    for name, array in zip(Clock._fields[:12], clock[:12], strict=True):
        out = np.zeros(capacity, array.dtype)
        n = used[name.split("_")[0]]
        out[:n] = array[:n]
        grown.append(out)
    return Clock(*grown, clock.counters, clock.now)


def pending(clock: Clock) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The events not yet run, as (time, kind, case) arrays in no particular order."""
    c = clock.counters
    parts = ((clock.soon_time, clock.soon_kind, clock.soon_case, 0, int(c[SOON])),
             (clock.later_time, clock.later_kind, clock.later_case, 0, int(c[LATER])),
             (clock.today_time, clock.today_kind, clock.today_case, int(c[TODAY_NEXT]),
              int(c[TODAY_END])))
    return tuple(np.concatenate([p[k][lo:hi] for *p, lo, hi in parts]) for k in range(3))


def renumber(clock: Clock, new: np.ndarray) -> None:
    """The pending events follow their cases to new rows: `new[old row]` (`sim.cases.compact`)."""
    c = clock.counters
    for cases, lo, hi in ((clock.soon_case, 0, c[SOON]), (clock.later_case, 0, c[LATER]),
                          (clock.today_case, c[TODAY_NEXT], c[TODAY_END])):
        moved = new[cases[lo:hi]]
        if (moved < 0).any():  # a bug, never input: a case given back with an event pending
            raise RuntimeError("an event is pending for a case no longer in the table")
        cases[lo:hi] = moved


@kernel
def schedule(clock, time, kind, case):
    """`kind` happens to `case` at `time` (never before now: a past time means now)."""
    time = max(time, clock.now[NOW])
    counters = clock.counters
    seq = counters[NEXT_SEQ]
    counters[NEXT_SEQ] = seq + 1
    if time >= clock.now[UNTIL]:  # after the day being run: unsorted, for its own day
        n = counters[LATER]
        clock.later_time[n], clock.later_seq[n] = time, seq
        clock.later_kind[n], clock.later_case[n] = kind, case
        counters[LATER] = n + 1
        return
    times, seqs = clock.soon_time, clock.soon_seq
    i = counters[SOON]
    counters[SOON] = i + 1
    while i > 0:  # sift up: parents later than the new event move down
        parent = (i - 1) >> 1
        if times[parent] < time or (times[parent] == time and seqs[parent] < seq):
            break
        times[i], seqs[i] = times[parent], seqs[parent]
        clock.soon_kind[i], clock.soon_case[i] = clock.soon_kind[parent], clock.soon_case[parent]
        i = parent
    times[i], seqs[i], clock.soon_kind[i], clock.soon_case[i] = time, seq, kind, case


@kernel
def _stable_order(times):
    """The order that sorts `times` (>= 0), ties kept in their order: a radix sort of their
    bits, a byte at a time from the lowest, the bytes all keys share skipped (a day's times
    share their highest ones), cheaper than a merge sort of a day's tens of thousands."""
    n = len(times)
    keys = np.empty(n, np.uint64)
    for i in range(n):
        keys[i] = np.float64(times[i] + 0.0).view(np.uint64)  # -0.0 as 0.0
    order = np.arange(n)
    spare = np.empty(n, np.int64)
    counts = np.empty(257, np.int64)
    for byte in range(8):
        shift = np.uint64(8 * byte)
        counts[:] = 0
        for i in range(n):
            counts[((keys[i] >> shift) & np.uint64(255)) + 1] += 1
        if counts.max() == n:  # every key has the same byte here
            continue
        for b in range(256):
            counts[b + 1] += counts[b]
        for i in range(n):
            k = order[i]
            b = (keys[k] >> shift) & np.uint64(255)
            spare[counts[b]] = k
            counts[b] += 1
        order, spare = spare, order
    return order


@kernel
def start_day(clock, until):
    """Run events before `until` next: those already scheduled are sorted into `today`."""
    counters = clock.counters
    clock.now[UNTIL] = until
    n = counters[LATER]
    due = 0
    for i in range(n):
        if clock.later_time[i] < until:
            due += 1
    times = np.empty(due)
    seqs = np.empty(due, np.int64)
    kinds = np.empty(due, np.int64)
    cases = np.empty(due, np.int64)
    j = 0
    kept = 0
    for i in range(n):  # split, each part in scheduling order (a row moves only backwards)
        if clock.later_time[i] < until:
            times[j], seqs[j] = clock.later_time[i], clock.later_seq[i]
            kinds[j], cases[j] = clock.later_kind[i], clock.later_case[i]
            j += 1
        else:
            if kept != i:
                clock.later_time[kept], clock.later_seq[kept] = (clock.later_time[i],
                                                                 clock.later_seq[i])
                clock.later_kind[kept], clock.later_case[kept] = (clock.later_kind[i],
                                                                  clock.later_case[i])
            kept += 1
    counters[LATER] = kept
    order = _stable_order(times)  # ties stay in scheduling order
    # what is left of today (an earlier call's end before `until`) comes first: it is earlier
    start, end = counters[TODAY_NEXT], counters[TODAY_END]
    left = end - start
    for k in range(left):
        clock.today_time[k], clock.today_seq[k] = clock.today_time[start + k], \
            clock.today_seq[start + k]
        clock.today_kind[k], clock.today_case[k] = clock.today_kind[start + k], \
            clock.today_case[start + k]
    for k in range(due):
        j = order[k]
        clock.today_time[left + k], clock.today_seq[left + k] = times[j], seqs[j]
        clock.today_kind[left + k], clock.today_case[left + k] = kinds[j], cases[j]
    counters[TODAY_NEXT] = 0
    counters[TODAY_END] = left + due


@kernel
def next_time(clock):
    """Time of the next event due before the end of the day being run (inf when none is)."""
    counters = clock.counters
    t = np.inf
    if counters[TODAY_NEXT] < counters[TODAY_END]:
        t = clock.today_time[counters[TODAY_NEXT]]
    if counters[SOON] > 0 and clock.soon_time[0] < t:
        t = clock.soon_time[0]
    return t


@kernel
def _pop_soon(clock):
    times, seqs = clock.soon_time, clock.soon_seq
    kind, case = clock.soon_kind[0], clock.soon_case[0]
    clock.now[NOW] = times[0]
    n = clock.counters[SOON] - 1
    clock.counters[SOON] = n
    if n == 0:
        return kind, case
    # the last entry sifts down from the root: the earlier child moves up while it is earlier
    time, seq, last_kind, last_case = times[n], seqs[n], clock.soon_kind[n], clock.soon_case[n]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and (times[child + 1] < times[child] or (
                times[child + 1] == times[child] and seqs[child + 1] < seqs[child])):
            child += 1
        if time < times[child] or (time == times[child] and seq < seqs[child]):
            break
        times[i], seqs[i] = times[child], seqs[child]
        clock.soon_kind[i], clock.soon_case[i] = clock.soon_kind[child], clock.soon_case[child]
        i = child
    times[i], seqs[i], clock.soon_kind[i], clock.soon_case[i] = time, seq, last_kind, last_case
    return kind, case


@kernel
def pop(clock):
    """Remove the next event, move the clock to its time, return its (kind, case)."""
    counters = clock.counters
    counters[EVENTS_RUN] += 1
    k = counters[TODAY_NEXT]
    if k < counters[TODAY_END] and (
            counters[SOON] == 0 or clock.today_time[k] < clock.soon_time[0] or (
                clock.today_time[k] == clock.soon_time[0]
                and clock.today_seq[k] < clock.soon_seq[0])):
        counters[TODAY_NEXT] = k + 1
        clock.now[NOW] = clock.today_time[k]
        return clock.today_kind[k], clock.today_case[k]
    return _pop_soon(clock)
