"""How much `govsim validate-engine` simulates (here, apart from the cases, so that the command's
options load without the engine)."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    """How much to simulate: customers per replication (at load 0.8), replications, days."""

    name: str
    customers: int
    replications: int
    days: int = 40  # measured days
    warmup_share: float = 0.25  # warm-up days as a share of the measured days

    @property
    def warmup_days(self) -> int:
        return max(1, math.ceil(self.days * self.warmup_share))


#: `--quick` and the tests: about half a minute on one core. Ten short replications rather than
#: five long ones: the same work gives intervals 30 % narrower (t quantile 3.25 against 4.60),
#: and even at load 0.95 a replication is 8 relaxation times long after a 3-relaxation warm-up.
QUICK = Size("quick", customers=5_000, replications=10, warmup_share=0.35)
#: The default: CIs a few per cent wide at load 0.8, about 10 per cent at 0.95.
FULL = Size("full", customers=60_000, replications=10, days=60)
