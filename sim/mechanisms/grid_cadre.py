"""Grid cadres (网格员 of the departments, 双报到): a share of the problems a community can see
and one department can fix is settled on the spot by the lead department's cadre in the
community, instead of travelling through the channels.

A plug-in in plain Python (`sim.plugins`), and the worked example of docs/extending.md. Hubei's
five-level grid has cadres of the departments report to communities (双报到); the share they
settle on the spot is not published, so `share` is assumed and the mechanism is in no preset:
name it in a scenario (`plugins: {grid_cadre: {share: 0.3}}`) to try it.

What it changes: an eligible case goes straight to its lead department at its time of entry,
skipping the 12345 intake, the street's sections, the relay and any whistle; the department
works it as any case (its desk queue, its work drawn as usual), so the time saved is the
travel and the queues skipped, and the department's workload is the same case's.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from pydantic import Field

from sim.mechanisms import Mechanism
from sim.plugins import DailyMechanism, Day
from sim.scenario.schema import Section


class GridCadreSettings(Section):
    """The scenario's `plugins.grid_cadre` section."""

    share: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.3, description="Share of eligible problems the cadre settles on the spot (assumed).")
    visible_only: bool = Field(True, description="Only problems of categories the community "
                               "can see (the category table's `street_visible`).")


class GridCadre(DailyMechanism):
    """Before each day: each eligible new case (one department needed; of a visible category
    unless `visible_only` is off) is settled on the spot with chance `share`."""

    settings: GridCadreSettings

    def before_day(self, day: Day) -> None:
        rows = day.entering
        if not len(rows) or self.settings.share <= 0.0:
            return
        eligible = day.column("n_depts", rows) == 1
        if self.settings.visible_only:
            eligible &= day.categories.street_visible[day.column("category", rows)]
        chosen = eligible & (day.rng("grid_cadre").random(len(rows)) < self.settings.share)
        lead = day.column("depts", rows)[:, 0]
        take = chosen & (lead >= 0)
        day.settle_on_spot(rows[take], lead[take].astype(np.int64))


#: This mechanism, as `sim.mechanisms` lists it.
MECHANISM = Mechanism(
    "grid_cadre", section="plugins.grid_cadre", stations=("before_day", "on_spot"),
    doc="Department cadres in the community settle a share of simple visible problems on "
        "the spot (an example plug-in; assumed share).",
    settings=GridCadreSettings, daily=GridCadre)
