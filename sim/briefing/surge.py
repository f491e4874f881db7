"""The brief's surge stress test: when the compared runs have no demand shock, the same scenarios
are run again, shorter and smaller, with one shock window, so every regime meets the same surge.

Design (documented in docs/briefing.md): `days` = the runs' days clipped to 42..120, after 21
warm-up days (so the shock meets a system in its steady state, not one filling up); the shock
starts a third of the way in and lasts an eighth of the run (at least 4 days); occurrence rates
multiply by 2.5 in all categories and districts; `scale` is the runs' scale, at most 0.05; the
seed is the runs' own (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sim import api
from sim.results import Result

MULTIPLIER = 2.5
MIN_DAYS, MAX_DAYS = 42, 120
WARMUP_DAYS = 21
MAX_SCALE = 0.05


@dataclass(frozen=True)
class SurgePlan:
    days: int
    warmup_days: int
    start_day: int
    shock_days: int
    multiplier: float
    scale: float

    def overrides(self) -> dict[str, object]:
        return {"days": self.days, "scale": self.scale, "warmup_days": self.warmup_days,
                "demand.shocks": [{"start_day": self.start_day, "days": self.shock_days,
                                   "multiplier": self.multiplier}]}

    def describe(self, lang: str) -> str:
        if lang == "zh":
            return (f"由于比较的模拟中没有需求冲击，各情景以相同的随机种子重新运行{self.days}天"
                    f"（另有{self.warmup_days}天预热，不计入结果；模拟{100 * self.scale:g}%的居民），"
                    f"第{self.start_day}天起{self.shock_days}天内所有类别的问题发生率乘以"
                    f"{self.multiplier:g}。")
        return (f"The compared runs have no demand shock, so each scenario was run again with the "
                f"same seed for {self.days} days (after {self.warmup_days} warm-up days left out "
                f"of the measures; {100 * self.scale:g}% of residents) with every category's "
                f"occurrence multiplied by {self.multiplier:g} for {self.shock_days} days from "
                f"day {self.start_day}.")


def has_shocks(results: Sequence[Result]) -> bool:
    """Whether every run already contains a demand shock (then the brief draws those)."""
    return all(r.scenario.demand.shocks for r in results)


def plan(results: Sequence[Result], multiplier: float = MULTIPLIER) -> SurgePlan:
    days = min(MAX_DAYS, max(MIN_DAYS, max(r.scenario.days for r in results)))
    scale = min(MAX_SCALE, min(r.scenario.scale for r in results))
    warmup = max(WARMUP_DAYS, max(r.scenario.warmup_days for r in results))
    return SurgePlan(days=days, warmup_days=warmup, start_day=days // 3,
                     shock_days=max(4, days // 8), multiplier=multiplier, scale=scale)


def run_surge(results: Sequence[Result], surge: SurgePlan,
              progress: Callable[[str], None] | None = None) -> list[Result]:
    """Each run's scenario again under the surge plan."""
    out = []
    for n, r in enumerate(results, 1):
        if progress:
            progress(f"surge [{n}/{len(results)}] {r.scenario.name}")
        out.append(api.run(r.scenario, overrides=surge.overrides(), name=r.scenario.name))
    return out
