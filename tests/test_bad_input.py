"""A corpus of bad, huge and hostile input through every command and option.

Each case must end with exit status 2 and one line on stderr, `error: ...`, naming the file (or
option) and the field, and saying what was expected; no traceback, no hang, and no file written.
All cases run in one child process (`tests/corpus_driver.py`, one fresh folder per case) under a
memory limit of 1 GB and a time limit, set with `resource.setrlimit` before it starts; the
`slow` variant runs every fourteenth case as its own `python -m sim` process under the same limits.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MEMORY = 1 << 30  # bytes of address space per child
CPU_SECONDS = 600  # for the whole batch (each case has its own alarm in the driver)

OK = "extends: hotline\ndays: 2\nscale: 0.01\n"
SYN = ("city:\n  source: synthetic\n  synthetic: {n_districts: 2, streets_per_district: 2, "
       "population: 20000}\n")


def _bomb(levels: int = 8) -> str:
    lines = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


DEEP = "a: " + "[" * 5000 + "]" * 5000 + "\n"
BIG = "# padding\n" * 110_000  # > 1 MB
NOT_UTF8 = {"bytes": "name: caf\xe9\n"}


def _network(kind: str) -> str:
    """A small network file as JSON text, with a duplicate node or edge."""
    import networkx as nx

    from sim.city import synthetic_city
    from sim.city.io import _EDGES_KW

    data = nx.node_link_data(synthetic_city(2, 2, 20_000).graph, **{_EDGES_KW: "edges"})
    if kind == "node":
        data["nodes"].append(dict(data["nodes"][2]))
    elif kind == "edge":
        data["edges"].append(dict(data["edges"][2]))
    return json.dumps(data)


# (id, scenario text or file mapping, words in the message); checked with `govsim check`
SCENARIOS: list[tuple[str, object, list[str]]] = [
    ("dup-key", "days: 3\ndays: 4\n", ["bad.yaml", "line 2", "each key once"]),
    ("dup-nested", "whistle:\n  enabled: true\n  enabled: false\n", ["bad.yaml", "line 3",
                                                                     "'enabled'"]),
    ("alias-bomb", _bomb(), ["bad.yaml", "aliases expanded"]),
    ("alias-count", "a: &a 1\nb: [" + ", ".join(["*a"] * 150) + "]\n",
     ["bad.yaml", "at most 100 aliases"]),
    ("deep", DEEP, ["bad.yaml", "line 1", "levels of nesting"]),
    ("deep-map", "a:\n" + "".join("  " * i + "k:\n" for i in range(1, 60)) + "  " * 60 + "1\n",
     ["bad.yaml", "levels of nesting"]),
    ("recursive", "a: &a [*a]\n", ["bad.yaml", "recursive"]),
    ("not-utf8", NOT_UTF8, ["bad.yaml", "byte 9", "UTF-8"]),
    ("huge-file", BIG, ["bad.yaml", "at most 1,000,000 bytes"]),
    ("bad-syntax", "days: [1, 2\n", ["bad.yaml", "valid YAML"]),
    ("tab-indent", "whistle:\n\tenabled: true\n", ["bad.yaml", "valid YAML"]),
    ("top-list", "- 1\n- 2\n", ["bad.yaml", "a mapping"]),
    ("top-scalar", "42\n", ["bad.yaml", "a mapping"]),
    ("unknown-key", "bogus: 1\n", ["bad.yaml", "bogus", "known field"]),
    ("unknown-nested", "whistle:\n  bogus: 1\n", ["bad.yaml", "whistle.bogus", "known field"]),
    ("days-inf", "days: .inf\n", ["bad.yaml", "days"]),
    ("days-1e26", "days: 1.0e+26\n", ["bad.yaml", "days", "whole number"]),
    ("days-zero", "days: 0\n", ["bad.yaml", "days", "> 0"]),
    ("days-huge", "days: 99999\n", ["bad.yaml", "days", "<= 3650"]),
    ("days-text", "days: many\n", ["bad.yaml", "days", "many"]),
    ("days-digits", "days: " + "9" * 5000 + "\n", ["bad.yaml", "valid YAML"]),
    ("warmup-huge", "warmup_days: 100000\n", ["bad.yaml", "warmup_days", "<= 3650"]),
    ("rate-inf", "demand:\n  rate_per_10k_per_day: .inf\n",
     ["bad.yaml", "demand.rate_per_10k_per_day", "finite"]),
    ("rate-nan", "demand:\n  rate_per_10k_per_day: .nan\n",
     ["bad.yaml", "demand.rate_per_10k_per_day", "finite"]),
    ("rate-1e12", "demand:\n  rate_per_10k_per_day: 1.0e+12\n",
     ["bad.yaml", "demand.rate_per_10k_per_day", "<= 100000"]),
    ("rate-negative", "demand:\n  rate_per_10k_per_day: -1\n",
     ["bad.yaml", "demand.rate_per_10k_per_day", ">= 0"]),
    ("shift-inf", "staffing:\n  shift_hours: .inf\n", ["bad.yaml", "staffing.shift_hours"]),
    ("work-hours-inf", "demand:\n  categories:\n    market: {work_hours: .inf}\n",
     ["bad.yaml", "demand.categories.market.work_hours", "finite"]),
    ("delay-1e300", "fragmented:\n  relay_delay_hours: 1.0e+300\n",
     ["bad.yaml", "fragmented.relay_delay_hours", "<= 8760"]),
    ("shock-inf", "demand:\n  shocks:\n    - {start_day: 0, days: 3, multiplier: .inf}\n",
     ["bad.yaml", "demand.shocks[0].multiplier", "finite"]),
    ("shock-1e9", "demand:\n  shocks:\n    - {start_day: 0, days: 3, multiplier: 1.0e+9}\n",
     ["bad.yaml", "demand.shocks[0].multiplier", "<= 100"]),
    ("shock-district", ("demand:\n  shocks:\n    - {start_day: 0, days: 3, multiplier: 2, "
     "districts: [Atlantis]}\n"), ["bad.yaml", "demand.shocks[0].districts", "Atlantis"]),
    ("shock-category", ("demand:\n  shocks:\n    - {start_day: 0, days: 3, multiplier: 2, "
     "categories: [aliens]}\n"), ["bad.yaml", "demand.shocks[0].categories", "aliens"]),
    ("shock-days", "demand:\n  shocks:\n    - {start_day: 0, days: 100000000, multiplier: 2}\n",
     ["bad.yaml", "demand.shocks[0].days", "<= 7300"]),
    ("start-date", "start_date: 9999-12-31\n", ["bad.yaml", "start_date", "2200-12-31"]),
    ("start-date-text", "start_date: someday\n", ["bad.yaml", "start_date"]),
    ("name-long", "name: " + "x" * 300 + "\n", ["bad.yaml", "name", "at most 100"]),
    ("name-empty", "name: ''\n", ["bad.yaml", "name", "at least 1"]),
    ("seed-negative", "seed: -1\n", ["bad.yaml", "seed", ">= 0"]),
    ("seed-float", "seed: 1.5\n", ["bad.yaml", "seed"]),
    ("layout-seed", "city:\n  layout_seed: -5\n", ["bad.yaml", "city.layout_seed", ">= 0"]),
    ("scale-zero", "scale: 0\n", ["bad.yaml", "scale", "> 0"]),
    ("scale-two", "scale: 2\n", ["bad.yaml", "scale", "<= 1"]),
    ("scale-tiny", "scale: 1.0e-9\n", ["bad.yaml", "scale", "at least one street"]),
    ("districts-1e10", "city:\n  source: synthetic\n  synthetic: {n_districts: 10000000000}\n",
     ["bad.yaml", "city.synthetic.n_districts", "<= 200"]),
    ("streets-total", ("city:\n  source: synthetic\n  synthetic: {n_districts: 200, "
     "streets_per_district: 1000}\n"), ["bad.yaml", "city.synthetic", "10,000 streets"]),
    ("population-zero", "city:\n  source: synthetic\n  synthetic: {population: 0}\n",
     ["bad.yaml", "city.synthetic.population", "> 0"]),
    ("population-small", SYN.replace("20000", "3"),
     ["bad.yaml", "city.synthetic.population"]),
    ("run-too-big", "demand:\n  rate_per_10k_per_day: 1000\ndays: 3650\n",
     ["bad.yaml", "at most 100,000,000 simulated problems"]),
    ("extends-cycle", {"bad.yaml": "extends: other.yaml\n", "other.yaml": "extends: bad.yaml\n"},
     ["extends", "cycle"]),
    ("extends-missing", "extends: nowhere.yaml\n", ["bad.yaml", "extends", "nowhere.yaml"]),
    ("extends-number", "extends: 3\n", ["bad.yaml", "extends"]),
    ("shares-sum", "demand:\n  shares: {market: 0.5}\n", ["bad.yaml", "demand.shares"]),
    ("hourly-zero", "demand:\n  hourly_profile: [" + ", ".join(["0"] * 24) + "]\n",
     ["bad.yaml", "demand.hourly_profile", "at least one positive"]),
    ("hourly-short", "demand:\n  hourly_profile: [1, 2]\n",
     ["bad.yaml", "demand.hourly_profile"]),
    ("weights-sum", "ranking:\n  weights: [0.5, 0.5, 0.5]\n", ["bad.yaml", "ranking.weights",
                                                               "sum to 1"]),
    ("bounces-huge", "fragmented:\n  max_bounces: 1000000\n",
     ["bad.yaml", "fragmented.max_bounces", "<= 100"]),
    ("timeline-date", "timeline:\n  - {date: 3000-01-01, set: {hotline.enabled: true}}\n",
     ["bad.yaml", "timeline[0].date", "2200-12-31"]),
    ("timeline-frozen", "timeline:\n  - {date: 2019-02-01, set: {days: 3}}\n",
     ["bad.yaml", "timeline[0].set.days", "may change"]),
    ("timeline-value", "timeline:\n  - {date: 2019-02-01, set: {whistle.compliance: 7}}\n",
     ["bad.yaml", "timeline[0].set.whistle.compliance", "<= 1"]),
    ("timeline-shock", ("timeline:\n  - {date: 2019-02-01, set: {demand.shocks: [{start_day: 0, "
     "days: 3, multiplier: 2, districts: [Atlantis]}]}}\n"),
     ["bad.yaml", "timeline[0].set.demand.shocks[0].districts", "Atlantis"]),
    ("timeline-empty", "timeline:\n  - {date: 2019-02-01, set: {}}\n",
     ["bad.yaml", "timeline[0].set", "at least one field"]),
    ("city-no-path", "city:\n  source: file\n", ["bad.yaml", "city.path"]),
    ("city-missing", "city:\n  source: file\n  path: nowhere.json\n",
     ["nowhere.json", "existing network file"]),
    ("city-suffix", {"bad.yaml": "city:\n  source: file\n  path: net.txt\n", "net.txt": "x"},
     ["net.txt", ".json or .graphml"]),
    ("city-dup-node", {"bad.yaml": "city:\n  source: file\n  path: net.json\n",
                       "net.json": _network("node")}, ["net.json", "nodes[", "node id once"]),
    ("city-dup-edge", {"bad.yaml": "city:\n  source: file\n  path: net.json\n",
                       "net.json": _network("edge")}, ["net.json", "edges[", "edge"]),
    ("city-deep-json", {"bad.yaml": "city:\n  source: file\n  path: net.json\n",
                        "net.json": "[" * 100_000 + "]" * 100_000}, ["net.json", "JSON"]),
    ("city-not-utf8", {"bad.yaml": "city:\n  source: file\n  path: net.json\n",
                       "net.json": {"bytes": "\xff\xfe\x00"}}, ["net.json", "UTF-8"]),
    ("city-not-json", {"bad.yaml": "city:\n  source: file\n  path: net.json\n",
                       "net.json": "{not json"}, ["net.json", "JSON"]),
    ("city-bad-graphml", {"bad.yaml": "city:\n  source: file\n  path: net.graphml\n",
                          "net.graphml": "<graphml><node"}, ["net.graphml", "GraphML"]),
]


def _files(content: object) -> dict[str, object]:
    return dict(content) if isinstance(content, dict) and "bytes" not in content \
        else {"bad.yaml": content}


def _case(cid: str, argv: list[str], files: dict[str, object], words: list[str]) -> dict:
    return {"id": cid, "argv": argv, "files": files, "words": words}


CASES: list[dict] = []
for cid, content, words in SCENARIOS:
    CASES.append(_case(f"check-{cid}", ["check", "bad.yaml"], _files(content), words))
# the same files through run, compare and brief: refused before any run, nothing written
for cid, content, words in SCENARIOS[::3]:
    CASES.append(_case(f"run-{cid}", ["run", "bad.yaml", "--out", "res"], _files(content),
                       words))
for cid, content, words in SCENARIOS[1::5]:
    CASES.append(_case(f"compare-{cid}", ["compare", "fragmented", "bad.yaml", "--out", "res"],
                       _files(content), words))
for cid, content, words in SCENARIOS[2::8]:
    CASES.append(_case(f"brief-{cid}", ["brief", "bad.yaml", "--out", "res"], _files(content),
                       words))

OPTIONS: list[tuple[str, list[str], dict[str, object], list[str]]] = [
    # run's options
    ("days-0", ["run", "ok.yaml", "--days", "0"], {}, ["--days", "> 0"]),
    ("days-1e20", ["run", "ok.yaml", "--days", "1e20"], {}, ["--days", "1e20"]),
    ("days-huge", ["run", "ok.yaml", "--days", "99999"], {}, ["ok.yaml", "days", "<= 3650"]),
    ("days-and-set", ["run", "ok.yaml", "--days", "3", "--set", "days=abc"], {},
     ["--set days", "not both"]),
    ("seed-and-set", ["run", "ok.yaml", "--seed", "3", "--set", "seed=4"], {},
     ["--set seed", "not both"]),
    ("seed-negative", ["run", "ok.yaml", "--seed", "-1"], {}, ["--seed", ">= 0"]),
    ("seed-text", ["run", "ok.yaml", "--seed", "x"], {}, ["--seed", "'x'"]),
    ("scale-nan", ["run", "ok.yaml", "--scale", "nan"], {}, ["--scale", "(0, 1]"]),
    ("scale-inf", ["run", "ok.yaml", "--scale", "inf"], {}, ["--scale", "(0, 1]"]),
    ("scale-zero", ["compare", "ok.yaml", "--scale", "0"], {}, ["--scale", "(0, 1]"]),
    ("set-no-equals", ["run", "ok.yaml", "--set", "whistle"], {}, ["--set", "key.path=value"]),
    ("set-empty-key", ["run", "ok.yaml", "--set", "=3"], {}, ["--set", "key.path=value"]),
    ("set-deep", ["check", "ok.yaml", "--set", "a=" + "[" * 500], {},
     ["--set", "levels of nesting"]),
    ("set-dup", ["check", "ok.yaml", "--set", "whistle={a: 1, a: 2}"], {},
     ["--set", "each key once"]),
    ("set-bomb", ["check", "ok.yaml", "--set", "x=" + _bomb().replace("\n", ", ").join("{}")],
     {}, ["--set"]),
    ("set-bool", ["run", "ok.yaml", "--set", "whistle.enabled=maybe"], {},
     ["ok.yaml (command line)", "whistle.enabled", "maybe"]),
    ("set-unknown", ["check", "ok.yaml", "--set", "whistle.bogus=1"], {},
     ["ok.yaml (command line)", "whistle.bogus", "known field"]),
    ("set-inf", ["run", "ok.yaml", "--set", "demand.rate_per_10k_per_day=.inf"], {},
     ["ok.yaml (command line)", "demand.rate_per_10k_per_day", "finite"]),
    ("set-through-value", ["check", "ok.yaml", "--set", "days.x=1"], {},
     ["days.x", "mappings"]),
    ("set-seed-huge-ok-but-days", ["run", "ok.yaml", "--seed", "1" + "0" * 30, "--set",
                                   "days=0"], {}, ["days", "> 0"]),
    ("unknown-preset", ["run", "hotlin"], {}, ["hotlin", "preset name"]),
    ("missing-file", ["check", "missing.yaml"], {}, ["missing.yaml", "existing scenario"]),
    ("directory", ["check", "folder.yaml"], {"folder.yaml/x": ""}, ["folder.yaml",
                                                                    "existing scenario"]),
    ("no-command", [], {}, ["COMMAND"]),
    ("unknown-command", ["frobnicate"], {}, ["frobnicate"]),
    ("unknown-option", ["run", "ok.yaml", "--bogus"], {}, ["--bogus"]),
    # --out of run, compare, brief
    ("out-under-file", ["run", "ok.yaml", "--out", "f/res"], {"f": "x"},
     ["f/res", "--out", "under the file"]),
    ("out-is-file", ["run", "ok.yaml", "--out", "f"], {"f": "x"}, ["f", "--out",
                                                                   "existing file"]),
    ("out-proc", ["run", "ok.yaml", "--out", "/proc/govsim"], {}, ["/proc/govsim", "/proc"]),
    ("out-sys", ["run", "ok.yaml", "--out", "/sys/kernel/govsim"], {}, ["/sys", "--out"]),
    ("out-other-files", ["run", "ok.yaml", "--out", "mine"], {"mine/notes.txt": "keep"},
     ["mine", "--out", "other files"]),
    ("out-long", ["run", "ok.yaml", "--out", "n" * 250], {}, ["--out", "characters"]),
    ("compare-out-file", ["compare", "ok.yaml", "--out", "f/x"], {"f": "x"},
     ["f/x", "under the file"]),
    ("compare-out-proc", ["compare", "ok.yaml", "--out", "/proc/x"], {}, ["/proc/x", "/proc"]),
    ("compare-workers-0", ["compare", "ok.yaml", "--workers", "0"], {}, ["--workers", ">= 1"]),
    ("compare-workers-x", ["compare", "ok.yaml", "--workers", "x"], {}, ["--workers"]),
    ("compare-bad-second", ["compare", "ok.yaml", "nope.yaml"], {}, ["nope.yaml"]),
    ("brief-out-file", ["brief", "ok.yaml", "--out", "f/x"], {"f": "x"}, ["f/x", "under"]),
    ("brief-out-proc", ["brief", "ok.yaml", "--out", "/proc/x"], {}, ["/proc/x", "/proc"]),
    ("brief-lang", ["brief", "--lang", "xx"], {}, ["--lang", "xx"]),
    ("brief-from-missing", ["brief", "--from", "nowhere"], {}, ["nowhere", "--from"]),
    ("brief-from-and-files", ["brief", "ok.yaml", "--from", "d"], {"d/x": ""},
     ["--from", "not both"]),
    ("brief-from-and-days", ["brief", "--from", "d", "--days", "3"], {"d/x": ""},
     ["--from", "--days"]),
    ("brief-from-empty", ["brief", "--from", "d"], {"d/x": ""}, ["d", "--from", "saved runs"]),
    # calibrate
    ("cal-missing", ["calibrate", "nope.yaml"], {}, ["nope.yaml", "calibration spec"]),
    ("cal-not-utf8", ["calibrate", "cal.yaml"], {"cal.yaml": NOT_UTF8},
     ["cal.yaml", "UTF-8"]),
    ("cal-bomb", ["calibrate", "cal.yaml"], {"cal.yaml": _bomb()}, ["cal.yaml", "aliases"]),
    ("cal-dup", ["calibrate", "cal.yaml"], {"cal.yaml": "scale: 0.1\nscale: 0.2\n"},
     ["cal.yaml", "each key once"]),
    ("cal-deep", ["calibrate", "cal.yaml"], {"cal.yaml": DEEP}, ["cal.yaml", "nesting"]),
    ("cal-huge", ["calibrate", "cal.yaml"], {"cal.yaml": BIG}, ["cal.yaml", "bytes"]),
    ("cal-list", ["calibrate", "cal.yaml"], {"cal.yaml": "- 1\n"}, ["cal.yaml", "mapping"]),
    ("cal-unknown", ["calibrate", "cal.yaml"], {"cal.yaml": "bogus: 1\n"}, ["cal.yaml"]),
    ("cal-scale-inf", ["calibrate", "cal.yaml"],
     {"cal.yaml": "scenario: ok.yaml\nscale: .inf\nparameters: [{path: days, low: 1, high: 2}]"
                  "\ntargets: [{measure: x, period: y}]\n"}, ["cal.yaml", "scale"]),
    ("cal-budget", ["calibrate", "--budget", "0"], {}, ["--budget"]),
    ("cal-out-proc", ["calibrate", "--report", "--out", "/proc/x"], {}, ["/proc/x", "/proc"]),
    # validate-engine
    ("ve-seed", ["validate-engine", "--seed", "-1"], {}, ["--seed"]),
    ("ve-jobs", ["validate-engine", "--jobs", "0"], {}, ["--jobs"]),
    ("ve-reps", ["validate-engine", "--replications", "1"], {}, ["--replications"]),
    ("ve-confidence", ["validate-engine", "--confidence", "2"], {}, ["--confidence"]),
    ("ve-confidence-nan", ["validate-engine", "--confidence", "nan"], {}, ["--confidence"]),
    ("ve-only", ["validate-engine", "--only", "bogus"], {}, ["--only", "bogus"]),
    ("ve-out-file", ["validate-engine", "--quick", "--out", "f/x"], {"f": "x"},
     ["f/x", "under the file"]),
    ("ve-out-proc", ["validate-engine", "--quick", "--out", "/proc/x"], {}, ["/proc/x"]),
    # sweep
    ("sw-missing", ["sweep", "nope.yaml"], {}, ["nope.yaml", "sweep spec"]),
    ("sw-none", ["sweep"], {}, ["SPEC"]),
    ("sw-both", ["sweep", "s.yaml", "--summary", "d"], {"s.yaml": "scenarios: [hotline]\n"},
     ["s.yaml", "not both"]),
    ("sw-summary-missing", ["sweep", "--summary", "nowhere"], {}, ["nowhere", "sweep"]),
    ("sw-bomb", ["sweep", "s.yaml"], {"s.yaml": _bomb()}, ["s.yaml", "aliases"]),
    ("sw-dup", ["sweep", "s.yaml"], {"s.yaml": "scenarios: [hotline]\nseed: 1\nseed: 2\n"},
     ["s.yaml", "line 3", "each key once"]),
    ("sw-deep", ["sweep", "s.yaml"], {"s.yaml": DEEP}, ["s.yaml", "nesting"]),
    ("sw-not-utf8", ["sweep", "s.yaml"], {"s.yaml": NOT_UTF8}, ["s.yaml", "UTF-8"]),
    ("sw-huge", ["sweep", "s.yaml"], {"s.yaml": BIG}, ["s.yaml", "bytes"]),
    ("sw-unknown", ["sweep", "s.yaml"], {"s.yaml": "scenarios: [hotline]\nbogus: 1\n"},
     ["s.yaml", "bogus"]),
    ("sw-name-up", ["sweep", "s.yaml"], {"s.yaml": "name: ../../x\nscenarios: [hotline]\n"},
     ["s.yaml", "name", "plain name"]),
    ("sw-name-abs", ["sweep", "s.yaml", "--dry-run"],
     {"s.yaml": "name: /tmp/x\nscenarios: [hotline]\n"}, ["s.yaml", "name", "plain name"]),
    ("sw-label-up", ["sweep", "s.yaml"],
     {"s.yaml": "scenarios: [{file: hotline, label: ../x}]\n"},
     ["s.yaml", "scenarios[0].label", "plain name"]),
    ("sw-lhs-1e9", ["sweep", "s.yaml", "--dry-run"],
     {"s.yaml": "scenarios: [hotline]\ndesign: {method: lhs, samples: 1000000000}\n"
                "parameters: {demand.rate_per_10k_per_day: {low: 1, high: 2}}\n"},
     ["s.yaml", "design.samples", "<= 100000"]),
    ("sw-grid-1e10", ["sweep", "s.yaml", "--dry-run"],
     {"s.yaml": "scenarios: [hotline]\nparameters:\n" + "".join(
         f"  {p}: {{low: 0.1, high: 0.9, levels: 100}}\n" for p in (
             "staffing.resolve_prob", "reporting.propensity", "whistle.compliance",
             "hotline.reopen_prob", "satisfaction.unresolved"))},
     ["s.yaml", "parameters", "100,000 design points"]),
    ("sw-runs", ["sweep", "s.yaml", "--dry-run"],
     {"s.yaml": "scenarios: [hotline, whistle]\nreplications: 90000\n"},
     ["s.yaml", "replications", "100,000 runs"]),
    ("sw-reps-1e9", ["sweep", "s.yaml"], {"s.yaml": "scenarios: [hotline]\n"
                                                   "replications: 1000000000\n"},
     ["s.yaml", "replications"]),
    ("sw-levels", ["sweep", "s.yaml", "--dry-run"],
     {"s.yaml": "scenarios: [hotline]\nparameters: {staffing.resolve_prob: "
                "{low: 0.1, high: 0.9, levels: 10000000000}}\n"},
     ["s.yaml", "levels"]),
    ("sw-low-inf", ["sweep", "s.yaml"],
     {"s.yaml": "scenarios: [hotline]\nparameters: {staffing.resolve_prob: "
                "{low: -.inf, high: 0.9, levels: 3}}\n"}, ["s.yaml", "parameters"]),
    ("sw-measures", ["sweep", "s.yaml"],
     {"s.yaml": "scenarios: [hotline]\nset: {days: 2, scale: 0.01}\n"
                "measures: os:system\n"}, ["s.yaml", "measures", "--allow-import"]),
    ("sw-measures-syntax", ["sweep", "s.yaml", "--dry-run"],
     {"s.yaml": "scenarios: [hotline]\nmeasures: 'import os'\n"},
     ["s.yaml", "measures", "module:function"]),
    ("sw-bad-scenario", ["sweep", "s.yaml"], {"s.yaml": "scenarios: [nope]\n"},
     ["s.yaml", "scenarios[0]"]),
    ("sw-set-inf", ["sweep", "s.yaml"],
     {"s.yaml": "scenarios: [hotline]\nset: {demand.rate_per_10k_per_day: .inf}\n"},
     ["s.yaml", "set.demand.rate_per_10k_per_day", "finite"]),
    ("sw-scheduler", ["sweep", "s.yaml", "--scheduler", "not a url"],
     {"s.yaml": "scenarios: [hotline]\nset: {days: 2, scale: 0.01}\n"},
     ["--scheduler", "SCHEME://HOST:PORT"]),
    ("sw-workers", ["sweep", "s.yaml", "--workers", "0"], {"s.yaml": "scenarios: [hotline]\n"},
     ["--workers"]),
    ("sw-out-file", ["sweep", "s.yaml", "--out", "f/x"],
     {"s.yaml": "scenarios: [hotline]\n", "f": "x"}, ["f/x", "under the file"]),
    ("sw-out-proc", ["sweep", "s.yaml", "--dry-run", "--out", "/proc/x"],
     {"s.yaml": "scenarios: [hotline]\n"}, ["/proc/x", "/proc"]),
    ("sw-out-other", ["sweep", "s.yaml", "--out", "mine"],
     {"s.yaml": "scenarios: [hotline]\n", "mine/notes.txt": "keep"}, ["mine", "other files"]),
    ("sw-outcome", ["sweep", "s.yaml", "--outcome", "bogus"],
     {"s.yaml": "scenarios: [hotline]\nset: {days: 2, scale: 0.01}\n"}, ["--outcome", "bogus"]),
]
for cid, argv, files, words in OPTIONS:
    CASES.append(_case(f"opt-{cid}", argv, {"ok.yaml": OK, **files}, words))

IDS = [c["id"] for c in CASES]
assert len(set(IDS)) == len(IDS)


def limits() -> None:
    """In the child, before it starts: at most 1 GB of memory and a bounded CPU time."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("corpus")
    cases = folder / "cases.json"
    results = folder / "results.json"
    cases.write_text(json.dumps(CASES), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "tests.corpus_driver", str(cases),
                           str(results)], cwd=REPO, preexec_fn=limits, capture_output=True,
                          text=True, timeout=CPU_SECONDS, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(results.read_text(encoding="utf-8"))


def _check(case: dict, status: int | None, stderr: str, new_files: list[str],
           escaped: str | None = None) -> None:
    assert escaped is None, escaped
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    line = lines[0]
    assert line.startswith("error: "), line
    assert any(w in line for w in ("expected", "invalid choice", "required", "unrecognized")), \
        line
    assert len(line) < 600, line
    for word in case["words"]:
        assert word in line, (word, line)
    assert status == 2, (status, line)
    assert new_files == [], new_files  # nothing written: no results/, no staging folder


def test_corpus_size() -> None:
    assert len(CASES) >= 120
    commands = {c["argv"][0] for c in CASES if c["argv"]}
    assert commands == {"check", "run", "compare", "brief", "calibrate", "validate-engine",
                        "sweep", "frobnicate"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_input(batch: dict[str, dict], case: dict) -> None:
    got = batch[case["id"]]
    _check(case, got["status"], got["stderr"], got["new_files"], got["escaped"])


#: Every fourteenth case again as a process of its own (each pays the interpreter's start-up,
#: about 4 s, so all 210 would take a quarter of an hour of CI).
OWN_PROCESS = CASES[::14]


@pytest.mark.slow
@pytest.mark.parametrize("case", OWN_PROCESS, ids=IDS[::14])
def test_bad_input_own_process(tmp_path: Path, case: dict) -> None:
    """A sample of the cases as `python -m sim ...` of its own: the real exit status and
    stderr (the batch above runs them all in one child)."""
    from tests.corpus_driver import listing, write_files

    before = write_files(tmp_path, case["files"])
    done = subprocess.run([sys.executable, "-m", "sim", *case["argv"]], cwd=tmp_path,
                          preexec_fn=limits, capture_output=True, text=True, timeout=120,
                          check=False, env={**__import__("os").environ,
                                            "PYTHONPATH": str(REPO)})
    _check(case, done.returncode, done.stderr, sorted(listing(tmp_path) - before))
