"""Briefing charts: each takes a `Result` (or a list or dict of them) and returns a Figure.

    from sim import charts
    fig = charts.latency([r_fragmented, r_hotline], lang="zh")
    fig.savefig("latency.png")

Every chart states its finding in the title, puts units on its axes, names the scenarios and seed
in a footnote and draws each regime in the same colour, line style and hatch (`charts.style`).
Figures are built without pyplot, so making many of them leaks nothing; none is ever shown.
"""

from sim.charts.funnel import funnel
from sim.charts.latency import latency
from sim.charts.maps import city_map
from sim.charts.rankings import rankings
from sim.charts.rates import rates
from sim.charts.surge import surge
from sim.charts.workload import workload

__all__ = ["city_map", "funnel", "latency", "rankings", "rates", "surge", "workload"]
