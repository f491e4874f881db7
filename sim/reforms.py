"""The reforms as data: each a named set of mechanisms, each mechanism the scenario fields it sets.

One place says what a reform switches on, so that every use agrees: the presets (each is its
parent plus its reform's switches; a test checks it), the reform history's timeline (a change
names the reforms it brings, `reforms: [hotline]`), the decomposition of a reform's effect into
its mechanisms (`sim.evidence.decompose`) and the counterfactual histories that remove a reform
or move it (`sim.evidence.counterfactual`).

A mechanism is `on` (the fields it sets when the reform comes) and `off` (what undoes it inside a
preset that has it: by default the parent's values of the same fields). A mechanism whose effect
is a parameter of the calibrated city rather than a switch (the merged line's pull on reporting)
has no `on` fields, only an `off` that neutralises it.

Names: a reform (`whistle`), or one of its mechanisms (`whistle.joint_whistles`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Mechanism:
    name: str  # short, as in tables: `joint_whistles`
    title: str  # in English, for tables and charts
    title_zh: str
    on: dict[str, Any]  # dotted scenario fields it sets when it comes
    off: dict[str, Any] | None = None  # what undoes it (None: the parent preset's values)
    source: str = ""  # where docs/model.md says it comes from


@dataclass(frozen=True)
class Reform:
    name: str
    title: str
    title_zh: str
    mechanisms: tuple[Mechanism, ...] = field(default_factory=tuple)

    def mechanism(self, name: str) -> Mechanism:
        for m in self.mechanisms:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def on(self) -> dict[str, Any]:
        """Every field the reform sets, its mechanisms' in order."""
        out: dict[str, Any] = {}
        for m in self.mechanisms:
            out.update(m.on)
        return out


REFORMS: dict[str, Reform] = {r.name: r for r in (
    Reform("whistle", "the whistle (街乡吹哨、部门报到)", "街乡吹哨、部门报到", (
        Mechanism("whistle", "whistle and report on site", "吹哨报到",
                  {"whistle.enabled": True}, source="[S2], [S5]"),
        Mechanism("joint_whistles", "joint whistles across borders", "联合哨",
                  {"whistle.joint_across_borders": True}, source="[S1]"),
        Mechanism("sections_6_1_3", "'6+1+3' sections", "“6+1+3”机构改革",
                  {"whistle.restructured_sections": True}, source="[S2]"),
        Mechanism("enforcement_teams", "enforcement teams at streets", "城管执法力量下沉",
                  {"devolution.enforcement_team": True}, source="[S2]"),
        Mechanism("street_chiefs", "street and lane chiefs' patrols", "街巷长巡查",
                  {"patrols.enabled": True}, source="[S2], [S4]"),
    )),
    Reform("hotline", "respond on receipt (接诉即办)", "接诉即办", (
        Mechanism("one_line", "one 12345 line, callbacks and reopening", "12345一号响应",
                  {"hotline.enabled": True}, source="[S1], [S6]"),
        Mechanism("induced_reporting", "more residents report (the merged line's pull)",
                  "诉求量随热线便利增加", {}, off={"hotline.induced_reporting": 1.0},
                  source="fitted (docs/calibration.md)"),
        Mechanism("direct_dispatch", "direct dispatch to streets", "直派街乡镇",
                  {"hotline.direct_dispatch": True}, off={"hotline.direct_dispatch": False},
                  source="[S1], [S2]"),
        Mechanism("ranking", "30/35/35 scoring and monthly ranking", "考评排名",
                  {"ranking.enabled": True}, source="[S2]"),
        Mechanism("centres_relay_fast", "district centres pass cases on within hours",
                  "区级指挥中心快速转派", {"fragmented.relay_delay_hours": 4.0},
                  source="assumed"),
    )),
    Reform("devolved_powers", "431 enforcement powers devolved (2020-07-01)", "431项执法权下放", (
        Mechanism("devolved_powers", "431 enforcement powers devolved", "执法权下放",
                  {"devolution.devolved_powers": True}, source="[S2]"),
    )),
    Reform("proactive", "act before the complaint (未诉先办)", "未诉先办", (
        Mechanism("themes", "每月一题: monthly themes, source governance and policy",
                  "每月一题", {"themes.enabled": True}, source="[S3], [S5]"),
        Mechanism("inspection", "proactive inspection and hot spots", "主动巡查",
                  {"inspection.enabled": True}, source="[S5]"),
        Mechanism("street_governance", "streets' own 主动治理", "街乡主动治理",
                  {"street_governance.enabled": True}, source="[S3]"),
    )),
    Reform("regulation_2021", "北京市接诉即办工作条例 (2021-09-24)", "接诉即办工作条例", (
        Mechanism("unreasonable_left_out", "unreasonable requests left out of the assessment",
                  "不合理诉求不纳入考评", {"ranking.exclude_unreasonable": True},
                  source="the regulation (2021-09-24)"),
    )),
)}

#: The presets in order, each with the reform it adds to the one before (the first adds none).
PRESET_STEPS: tuple[tuple[str, str | None], ...] = (
    ("fragmented", None), ("whistle", "whistle"), ("hotline", "hotline"),
    ("proactive", "proactive"))


def mechanisms(name: str) -> list[tuple[Reform, Mechanism]]:
    """The mechanisms a name stands for: all of a reform's, or one (`reform.mechanism`)."""
    reform_name, _, mechanism_name = name.partition(".")
    reform = REFORMS.get(reform_name)
    if reform is None:
        raise KeyError(name)
    if not mechanism_name:
        return [(reform, m) for m in reform.mechanisms]
    return [(reform, reform.mechanism(mechanism_name))]


def known_names() -> list[str]:
    """Every name a scenario may use: the reforms, then `reform.mechanism` for each."""
    return [*REFORMS, *(f"{r.name}.{m.name}" for r in REFORMS.values() for m in r.mechanisms)]


def check_name(name: str) -> str:
    """`name` if it names a reform or a mechanism, else a ValueError saying which exist."""
    try:
        mechanisms(name)
    except KeyError:
        raise ValueError(f"a reform ({', '.join(REFORMS)}) or one of its mechanisms "
                         "(reform.mechanism, e.g. hotline.ranking; docs/model.md)") from None
    return name


def settings(names: list[str]) -> dict[str, Any]:
    """The fields the named reforms and mechanisms set, in order (a later one wins)."""
    out: dict[str, Any] = {}
    for name in names:
        for _, m in mechanisms(name):
            out.update(m.on)
    return out
