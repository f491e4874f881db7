"""The agents of docs/model.md as Mesa agents, whose state is the arrays the compiled engine reads.

Residents are cohorts (one agent per community of a simulated street); offices are one agent per
unit. An agent does not copy its state: `cohort.trust` is the model's trust array at the
cohort's community, `office.effort` the engine's effort of the unit, so a researcher can read
and change either through the agent, and the next day runs with the change. What agents do with
a case is compiled (`sim.flow`): a case never stops at a Python object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.units import RANK_CLASSES, UNIT_TYPES, supervised

if TYPE_CHECKING:
    from sim.model import GovernanceModel

__all__ = [
    "RANK_CLASSES",
    "UNIT_TYPES",
    "CitizenCohort",
    "Department",
    "DeskView",
    "DistrictCentre",
    "EnforcementTeam",
    "Hotline",
    "Office",
    "StreetOffice",
]


class CitizenCohort(mesa.Agent):
    """The residents of one community (社区/村): they meet problems, report, wait and judge."""

    model: GovernanceModel

    def __init__(self, model: GovernanceModel, community: int, street: int, residents: int):
        super().__init__(model)
        self.community = community
        self.street = street
        self.residents = residents  # real residents this cohort stands for

    @property
    def trust(self) -> float:
        """Trust in government response (0..1); moves the chance of reporting a problem."""
        return float(self.model.trust[self.community])

    @trust.setter
    def trust(self, value: float) -> None:
        self.model.trust[self.community] = min(1.0, max(0.0, float(value)))

    @property
    def propensity(self) -> float:
        """Chance of reporting a problem through the fragmented channels, at trust 0.5."""
        return float(self.model.propensity[self.community])

    @propensity.setter
    def propensity(self, value: float) -> None:
        self.model.propensity[self.community] = min(1.0, max(0.0, float(value)))


@dataclass(frozen=True)
class DeskView:
    """A unit's desk as it stands: whole servers at a speed, working hours from `opens`."""

    servers: int
    speed: float
    opens: float
    hours: float
    free: np.ndarray  # each server's next free time (hours), a copy


class Office(mesa.Agent):
    """A unit with staff (a desk), effort under ranking pressure, and a monthly class."""

    model: GovernanceModel

    def __init__(self, model: GovernanceModel, unit: int, name: str):
        super().__init__(model)
        self.unit = unit
        self.name = name

    @property
    def unit_type(self) -> str:
        return UNIT_TYPES[int(self.model.unit_type[self.unit])]

    @property
    def staff(self) -> float:
        """Real people on the unit's case work today (0: the unit is not simulated)."""
        return float(self.model.staff[self.unit])

    @property
    def desk(self) -> DeskView:
        d, u = self.model.desks, self.unit
        lo = int(d.first[u])
        return DeskView(int(d.servers[u]), float(d.speed[u]), float(d.opens[u]),
                        float(d.hours[u]), d.free[lo:lo + int(d.servers[u])].copy())

    @property
    def effort(self) -> float:
        """1 = regular hours; > 1 = overtime under ranking pressure (1.2: 20 % longer days)."""
        return float(self.model.units.effort[self.unit])

    @effort.setter
    def effort(self, value: float) -> None:
        self.model.set_effort(self.unit, float(value))

    @property
    def rank_class(self) -> str:
        return RANK_CLASSES[int(self.model.units.rank_class[self.unit])]

    @property
    def supervised(self) -> bool:
        """Units ranked 整改 or 治理 are supervised, which suppresses buck-passing."""
        return bool(supervised(self.model.units, self.unit))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} staff={self.staff:.1f}>"


class StreetOffice(Office):
    """街道办事处 / 乡镇政府 (the block): sees its territory, holds few powers, may whistle."""

    def __init__(self, model: GovernanceModel, unit: int, name: str, district: int):
        super().__init__(model, unit, name)
        self.street = unit
        self.district = district

    @property
    def simulated(self) -> bool:
        """In the run's sample of streets (every street at full scale)."""
        return bool(self.model.sample.streets[self.street])


class EnforcementTeam(Office):
    """A street's enforcement team (城管 staff sunk down), once forces are transferred."""

    def __init__(self, model: GovernanceModel, unit: int, name: str, street: int):
        super().__init__(model, unit, name)
        self.street = street


class Department(Office):
    """职能部门 (a strip): holds authority, sees only what reaches it, may pass the buck."""

    def __init__(self, model: GovernanceModel, unit: int, name: str, district: int,
                 dept_type: int):
        super().__init__(model, unit, name)
        self.district = district  # -1: city level
        self.dept_type = dept_type


class DistrictCentre(Office):
    """区级指挥中心: relays cases between streets and departments, with delay; the backstop."""

    def __init__(self, model: GovernanceModel, unit: int, name: str, district: int):
        super().__init__(model, unit, name)
        self.district = district


class Hotline(Office):
    """12345: call-takers take the request (and the consultations around it), then dispatch."""
