"""A corpus of bad, huge and hostile input through every command and option.

Each case must end with exit status 2 and one line on stderr, `error: ...`, naming the file (or
option) and the field, and saying what was expected; no traceback, no hang, and no file written.
The exception: a damaged fit history is set aside with one line and the fit made afresh
(`_check_kept`). All cases run in one child process (`tests/corpus_driver.py`, one fresh folder
per case) under a memory limit of 1.5 GB and a time limit, set with `resource.setrlimit` before
it starts; the `slow` variant runs every twenty-third case as its own `python -m sim` process
under the same limits.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
from pathlib import Path

import pytest

import sim
from tests.conftest import SMALL_CITY

REPO = Path(__file__).resolve().parents[1]
MEMORY = 3 << 29  # bytes of address space per child: 1.5 GB, as issue 29 asks
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
    ("out-long", ["run", "ok.yaml", "--out", "n" * 250], {}, ["--out", "bytes per part"]),
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

# --------------------------------------------------------------- the second round: newer inputs
def _latin(data: bytes) -> dict[str, str]:
    return {"bytes": data.decode("latin-1")}


def _parquet(frame) -> dict[str, str]:
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return _latin(buffer.getvalue())


def _summary(rows: int = 1, **changes: object):
    """A summary table with every column a saved run's has, as numbers and text."""
    import pandas as pd

    from sim.results import SUMMARY_COLUMNS, SUMMARY_INPUTS, TEXT_COLUMNS

    text = {"scenario", "regime", *TEXT_COLUMNS}
    row = {c: ("x" if c in text else 1 if c in SUMMARY_INPUTS else 0.5) for c in SUMMARY_COLUMNS}
    row.update(changes)
    return pd.DataFrame([row] * rows)


CAL_SCENARIO = "extends: hotline\nname: cal\nstart_date: 2019-01-01\ndays: 365\n" + SYN
CAL = ("scenario: s.yaml\nscale: 0.5\nseeds: [0]\nreport_scale: 0.5\nreport_seeds: [0]\n"
       "budget: 5\nmethod: nelder-mead\nparameters:\n"
       "  - {path: demand.rate_per_10k_per_day, low: 0.5, high: 6.0}\n"
       "targets:\n  - {measure: hotline_contacts, period: '2019'}\n")
PARAM = "  - {path: demand.rate_per_10k_per_day, low: 0.5, high: 6.0}\n"
TARGET = "  - {measure: hotline_contacts, period: '2019'}\n"


def _cal(old: str, new: str) -> dict[str, object]:
    assert old in CAL, old
    return {"s.yaml": CAL_SCENARIO, "cal.yaml": CAL.replace(old, new, 1)}


# (id, argv, files, words): a calibration spec refused before any evaluation, naming its field
CALIBRATION: list[tuple[str, list[str], dict[str, object], list[str]]] = [
    ("category", [], _cal("demand.rate_per_10k_per_day", "demand.categories.bogus.growth"),
     ["cal.yaml", "parameters[0].path", "bogus"]),
    ("column", [], _cal("demand.rate_per_10k_per_day", "demand.categories.heating.bogus"),
     ["cal.yaml", "parameters[0].path", "numeric field"]),
    ("path-unknown", [], _cal("demand.rate_per_10k_per_day", "whistle.bogus"),
     ["cal.yaml", "parameters[0].path", "numeric field"]),
    ("path-switch", [], _cal("demand.rate_per_10k_per_day, low: 0.5, high: 6.0",
                             "hotline.enabled, low: 0, high: 1"),
     ["cal.yaml", "parameters[0].path", "numeric field"]),
    ("param-twice", [], _cal(PARAM, PARAM + PARAM), ["cal.yaml", "parameters[1].path",
                                                     "each parameter once"]),
    ("target-twice", [], _cal(TARGET, TARGET + TARGET), ["cal.yaml", "targets[1]",
                                                         "each target once"]),
    ("weight-inf", [], _cal("period: '2019'}", "period: '2019', weight: .inf}"),
     ["cal.yaml", "targets[0].weight", "finite"]),
    ("weight-nan", [], _cal("period: '2019'}", "period: '2019', weight: .nan}"),
     ["cal.yaml", "targets[0].weight", "finite"]),
    ("weight-huge", [], _cal("period: '2019'}", "period: '2019', weight: 1.0e+300}"),
     ["cal.yaml", "targets[0].weight", "<= 1000000"]),
    ("weight-zero", [], _cal("period: '2019'}", "period: '2019', weight: 0}"),
     ["cal.yaml", "targets[0].weight", "> 0"]),
    ("seed-negative", [], _cal("seeds: [0]", "seeds: [-1]"), ["cal.yaml", "seeds[0]", ">= 0"]),
    ("seed-twice", [], _cal("seeds: [0]", "seeds: [3, 3]"), ["cal.yaml", "seeds",
                                                             "each seed once"]),
    ("seeds-many", [], _cal("seeds: [0]", f"seeds: {list(range(1001))}"),
     ["cal.yaml", "seeds", "at most 1000"]),
    ("report-seed-twice", [], _cal("report_seeds: [0]", "report_seeds: [1, 1]"),
     ["cal.yaml", "report_seeds", "each seed once"]),
    ("search-seed-negative", [], _cal("method: nelder-mead\n", "method: nelder-mead\nsearch: "
                                      "{method: differential-evolution, seeds: [-3]}\n"),
     ["cal.yaml", "search.seeds[0]", ">= 0"]),
    ("budget-generation", [], _cal("budget: 5\nmethod: nelder-mead",
                                   "budget: 3\nmethod: differential-evolution\npopsize: 5"),
     ["cal.yaml", "budget", "at least 5 evaluations", "one generation"]),
    ("budget-search", [], _cal("method: nelder-mead\n", "method: nelder-mead\nsearch: "
                               "{method: differential-evolution, budget: 2}\n"),
     ["cal.yaml", "search.budget", "at least 5"]),
    ("budget-jacobian", [], _cal("budget: 5\nmethod: nelder-mead",
                                 "budget: 2\nmethod: least-squares"),
     ["cal.yaml", "budget", "at least 3", "Jacobian"]),
    ("budget-simplex", [], _cal("budget: 5", "budget: 1"), ["cal.yaml", "budget", "simplex"]),
    ("budget-option", ["--budget", "2"], _cal("budget: 5", "budget: 5"),
     ["--budget", "at least 3"]),
    ("budget-huge", [], _cal("budget: 5", "budget: 1000000000"),
     ["cal.yaml", "budget", "<= 1000000"]),
    ("low-inf", [], _cal("low: 0.5", "low: -.inf"), ["cal.yaml", "parameters[0].low",
                                                     "finite"]),
    ("high-nan", [], _cal("high: 6.0", "high: .nan"), ["cal.yaml", "parameters[0].high",
                                                       "finite"]),
    ("bounds-out", [], _cal("demand.rate_per_10k_per_day, low: 0.5, high: 6.0",
                            "staffing.resolve_prob, low: 0.5, high: 2.0"),
     ["cal.yaml", "parameters", "staffing.resolve_prob"]),
    ("at-missing", [], _cal("low: 0.5,", "at: 2019-07-01, low: 0.5,"),
     ["cal.yaml", "parameters[0].at", "timeline change"]),
    ("scale-tiny", [], _cal("scale: 0.5\nseeds", "scale: 1.0e-9\nseeds"),
     ["cal.yaml", "scale", "at least one street"]),
    ("report-scale-tiny", [], _cal("report_scale: 0.5", "report_scale: 1.0e-9"),
     ["cal.yaml", "report_scale", "street"]),
    ("search-scale-tiny", [], _cal("method: nelder-mead\n", "method: nelder-mead\nsearch: "
                                   "{method: nelder-mead, scale: 1.0e-9}\n"),
     ["cal.yaml", "search.scale", "street"]),
    ("no-fitted", [], _cal("period: '2019'}", "period: '2019', fit: false}"),
     ["cal.yaml", "targets", "fit: true"]),
    ("step-inf", [], _cal("budget: 5", "budget: 5\nstep: .inf"), ["cal.yaml", "step"]),
    ("method", [], _cal("nelder-mead", "simulated-annealing"), ["cal.yaml", "method"]),
    ("popsize-0", [], _cal("budget: 5", "budget: 5\npopsize: 0"), ["cal.yaml", "popsize",
                                                                   ">= 1"]),
    ("scenario-name", [], {"s.yaml": CAL_SCENARIO.replace("name: cal", "name: \"c\\u202eal\""),
                           "cal.yaml": CAL}, ["s.yaml", "name", "bidirectional"]),
    ("out-here", ["--report", "--out", "."], _cal("budget: 5", "budget: 5"),
     ["--out", "current folder"]),
]
for cid, extra, files, words in CALIBRATION:
    CASES.append(_case(f"cal2-{cid}", ["calibrate", "cal.yaml", "--serial", *extra], files,
                       words))

SWEEP = "scenarios: [hotline]\nset: {days: 2, scale: 0.01}\n"
VARIED = "parameters: {staffing.resolve_prob: {low: 0.1, high: 0.9}}\n"
TWO = ("parameters: {staffing.resolve_prob: {low: 0.1, high: 0.9}, "
       "whistle.compliance: {low: 0.1, high: 0.9}}\n")
BESIDE = "def extra(result):\n    return {'x': 1.0}\n\nclass Klass:\n    pass\n"
# sweep specs: degenerate designs, unsafe names and labels, code from where it was not named
SWEEPS: list[tuple[str, list[str], str, dict[str, object], list[str]]] = [
    ("sobol-1", [], "design: {method: sobol, samples: 1}\n" + VARIED, {},
     ["s.yaml", "design", "at least 4 base samples"]),
    ("sobol-2", [], "design: {method: sobol, samples: 2}\n" + TWO, {},
     ["s.yaml", "design", "at least 4"]),
    ("second-order-one", [], "design: {method: sobol, samples: 8, second_order: true}\n"
     + VARIED, {}, ["s.yaml", "design.second_order", "two parameters"]),
    ("second-order-lhs", [], "design: {method: lhs, samples: 8, second_order: true}\n" + TWO,
     {}, ["s.yaml", "design", "only with method sobol"]),
    ("morris-1", [], "design: {method: morris, samples: 1}\n" + TWO, {},
     ["s.yaml", "design", "at least 2 trajectories"]),
    ("name-bidi", [], "name: \"ab\\u202ecd\"\n", {}, ["s.yaml", "name", "bidirectional",
                                                       "\\u202e"]),
    ("name-lookalike", [], "name: h\u043etline\n", {}, ["s.yaml", "name", "CYRILLIC"]),
    ("name-fullwidth", [], "name: \uff21\uff22\uff23\n", {}, ["s.yaml", "name",
                                                               "stands for"]),
    ("name-bytes", [], "name: " + "\u5317" * 70 + "\n", {}, ["s.yaml", "name", "200 bytes"]),
    ("name-zero-width", [], "name: \"a\\u200bb\"\n", {}, ["s.yaml", "name", "U+200B"]),
    ("label-bidi", [], "", {"s.yaml": "scenarios: [{file: hotline, label: \"x\\u2067y\"}]\n"
                                      "set: {days: 2, scale: 0.01}\n"},
     ["s.yaml", "scenarios[0].label", "bidirectional"]),
    ("label-escape", [], "", {"s.yaml": "scenarios: [{file: hotline, label: \"\\e[2J\"}]\n"},
     ["s.yaml", "scenarios[0].label", "plain name"]),
    ("measures-beside", ["--allow-import"], "measures: beside:extra\n", {"beside.py": BESIDE},
     ["s.yaml", "measures", "importable", "beside"]),
    ("measures-builtin", ["--allow-import"], "measures: os:system\n", {},
     ["s.yaml", "measures", "a Python function"]),
    ("measures-class", ["--allow-import"], "measures: beside.py:Klass\n", {"beside.py": BESIDE},
     ["s.yaml", "measures", "a Python function"]),
    ("measures-no-file", ["--allow-import"], "measures: nowhere.py:extra\n", {},
     ["s.yaml", "measures", "nowhere.py"]),
    ("out-here", ["--out", "."], "", {}, ["--out", "current folder"]),
    ("out-up", ["--out", ".."], "", {}, ["--out", "holding it"]),
]
for cid, extra, more, files, words in SWEEPS:
    CASES.append(_case(f"sw2-{cid}", ["sweep", "s.yaml", *extra],
                       {"s.yaml": SWEEP + more, **files}, words))

# scenario names, and folders that are not a place for results
NAMES: list[tuple[str, list[str], dict[str, object], list[str]]] = [
    ("name-bidi", ["check", "bad.yaml"], {"bad.yaml": "name: \"a\\u202eb\"\n"},
     ["bad.yaml", "name", "\\u202e"]),
    ("name-escape", ["check", "bad.yaml"], {"bad.yaml": "name: \"\\e[2Jx\"\n"},
     ["bad.yaml", "name", "\\x1b"]),
    ("name-cjk-bytes", ["run", "bad.yaml"], {"bad.yaml": OK + "name: " + "\u5317" * 100 + "\n"},
     ["bad.yaml", "name", "200 bytes"]),
    ("name-lookalike", ["check", "bad.yaml"], {"bad.yaml": "name: p\u0430ssword\n"},
     ["bad.yaml", "name", "CYRILLIC and LATIN"]),
    ("name-set", ["run", "ok.yaml", "--set", "name=\u202eevil"], {"ok.yaml": OK},
     ["name", "bidirectional"]),
    ("file-bidi", ["check", "x\u202egpj.yaml"], {}, ["x\\u202egpj.yaml", "existing"]),
    ("run-out-here", ["run", "ok.yaml", "--out", "."], {"ok.yaml": OK},
     ["--out", "current folder"]),
    ("run-out-root", ["run", "ok.yaml", "--out", "/"], {"ok.yaml": OK}, ["--out", "holding it"]),
    ("compare-out-up", ["compare", "ok.yaml", "--out", ".."], {"ok.yaml": OK},
     ["--out", "holding it"]),
    ("brief-out-here", ["brief", "ok.yaml", "--out", "."], {"ok.yaml": OK},
     ["--out", "current folder"]),
    ("run-out-bytes", ["run", "ok.yaml", "--out", "\u5317" * 80], {"ok.yaml": OK},
     ["--out", "bytes per part"]),
]
for cid, argv, files, words in NAMES:
    CASES.append(_case(f"names-{cid}", argv, files, words))

#: A saved run to damage, made once by the batch (`SAVED` stands for its folder).
SAVED = "@saved@"


def _from(files: dict[str, object], words: list[str], *extra: str) -> tuple:
    return ["brief", "--from", "d", *extra], {"d/a": {"copy": SAVED}, **files}, words


# `govsim brief --from` a folder whose files are damaged, foreign or hostile
FROM: list[tuple[str, tuple]] = [
    ("wrong-columns", _from({"d/a/problems.parquet": _parquet(_summary())},
                            ["problems.parquet", "a column of the problems table"])),
    ("wrong-kind", _from({"d/a/summary.parquet": _parquet(_summary(resolution_rate="high"))},
                         ["summary.parquet", "resolution_rate", "numbers"])),
    ("two-rows", _from({"d/a/summary.parquet": _parquet(_summary(rows=2))},
                       ["summary.parquet", "one row"])),
    ("summary-bytes", _from({"d/a/summary.parquet": _latin(bytes(range(256)) * 40)},
                            ["summary.parquet", "Parquet"])),
    ("problems-truncated", _from({"d/a/problems.parquet": _latin(b"PAR1" + b"\0" * 100)},
                                 ["problems.parquet", "Parquet"])),
    ("daily-missing", _from({"d/a/daily.parquet": {"delete": True}},
                            ["daily.parquet", "no such file"])),
    ("daily-folder", _from({"d/a/daily.parquet": {"folder": True}},
                           ["daily.parquet", "not a file"])),
    ("scenario-bomb", _from({"d/a/scenario.yaml": _bomb()}, ["scenario.yaml", "aliases"])),
    ("scenario-invalid", _from({"d/a/scenario.yaml": "days: -1\n"},
                               ["scenario.yaml", "days", "> 0"])),
    ("scenario-extends", _from({"d/a/scenario.yaml": "extends: hotline\n"},
                               ["scenario.yaml", "extends", "whole"])),
    ("scenario-name", _from({"d/a/scenario.yaml": "name: \"\\u202eb\"\n"},
                            ["scenario.yaml", "name", "bidirectional"])),
    ("scenario-huge", _from({"d/a/scenario.yaml": BIG}, ["scenario.yaml", "1,000,000 bytes"])),
    ("meta-deep", _from({"d/a/meta.json": "[" * 100_000 + "]" * 100_000},
                        ["meta.json", "JSON"])),
    ("meta-nested", _from({"d/a/meta.json": "{\"a\": " + "[" * 500 + "]" * 500 + "}"},
                          ["meta.json", "levels of nested"])),
    ("meta-list", _from({"d/a/meta.json": "[1, 2]"}, ["meta.json", "a JSON object"])),
    ("meta-not-utf8", _from({"d/a/meta.json": NOT_UTF8}, ["meta.json", "UTF-8"])),
    ("seed-summary", _from({"d/seeds/a/seed1/summary.parquet": _latin(b"not parquet")},
                           ["seed1/summary.parquet", "Parquet"])),
    ("seed-summary-columns", _from({"d/seeds/a/seed1/summary.parquet": _parquet(
        _summary().drop(columns=["seed"]))}, ["seed1/summary.parquet", "seed"])),
    ("comparison-huge", _from({"d/comparison.csv": "measure," + "a," * 5_000_001 + "\n"},
                              ["comparison.csv", "10,000,000 bytes"])),
    ("comparison-not-utf8", _from({"d/comparison.csv": _latin(b"measure,a\xff\n")},
                                  ["comparison.csv", "UTF-8"])),
    ("out-is-from", _from({}, ["--out", "apart from --from"], "--out", "d")),
    ("out-holds-from", (["brief", "--from", "d/results", "--out", "d"],
                        {"d/results/a": {"copy": SAVED}, "d/report.html": "earlier brief"},
                        ["--out", "apart from --from"])),
]
for cid, (argv, files, words) in FROM:
    CASES.append(_case(f"from-{cid}", argv, files, words))


def _city(change) -> str:
    """The small network as JSON text, with `change(data)` applied to it."""
    import networkx as nx

    from sim.city import synthetic_city
    from sim.city.io import _EDGES_KW

    data = nx.node_link_data(synthetic_city(2, 2, 20_000).graph, **{_EDGES_KW: "edges"})
    change(data)
    return json.dumps(data)


def _district(data: dict) -> dict:
    return next(n for n in data["nodes"] if n.get("kind") == "district")


def _outline(ring: list) -> callable:
    def change(data: dict) -> None:
        for node in data["nodes"]:
            if node.get("kind") == "district":
                node["outline"] = [[[x + 10 * len(node["id"]), y] for x, y in ring]]
        _district(data)["outline"] = [ring]
    return change


def _setter(key: str, value: object):
    return lambda data: _district(data).__setitem__(key, value)


SQUARE = [[0, 0], [4, 0], [4, 4], [0, 4]]
STAR = [[round(3 * math.cos(k * 4 * math.pi / 5), 4), round(3 * math.sin(k * 4 * math.pi / 5), 4)]
        for k in range(5)]


def _graphml_deep() -> str:
    from sim.city import synthetic_city
    from sim.city.io import write_graph

    graph = synthetic_city(2, 2, 20_000).graph
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind") == "district":
            attrs["outline"] = [SQUARE]
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.graphml"
        write_graph(graph, path)
        text = path.read_text(encoding="utf-8")
    ring = json.dumps([SQUARE], separators=(",", ":"))  # as write_graph writes it
    assert ring in text
    return text.replace(ring, "[" * 3000 + "]" * 3000, 1)


CITY = {"bad.yaml": "city:\n  source: file\n  path: net.json\n"}
# city files: geometry, numbers beyond any city, what a file costs to check
CITIES: list[tuple[str, dict[str, object], list[str]]] = [
    ("bow-tie", {"net.json": _city(_outline([[0, 0], [4, 4], [4, 0], [0, 4]]))},
     ["net.json", ".outline[0]", "does not cross itself"]),
    ("star", {"net.json": _city(_outline(STAR))}, ["net.json", ".outline[0]", "cross"]),
    ("ring-long", {"net.json": _city(_outline([[math.cos(t / 1700), math.sin(t / 1700)]
                                               for t in range(10_001)]))},
     ["net.json", ".outline[0]", "at most 10,000 points"]),
    ("population-2e64", {"net.json": _city(_setter("population", 2 ** 64 + 1))},
     ["net.json", ".population", "at most 100,000,000"]),
    ("population-1e300", {"net.json": _city(_setter("population", 1e300))},
     ["net.json", ".population", "at most 100,000,000"]),
    ("pos-huge", {"net.json": _city(_setter("pos", [1e300, 0]))}, ["net.json", ".pos"]),
    ("pos-bigint", {"net.json": _city(_setter("pos", [10 ** 400, 0]))}, ["net.json", ".pos"]),
    ("name-bidi", {"net.json": _city(_setter("name", "East\u202eWest"))},
     ["net.json", ".name", "bidirectional", "\\u202e"]),
    ("name-lookalike", {"net.json": _city(_setter("name", "Ch\u0430oyang"))},
     ["net.json", ".name", "CYRILLIC and LATIN"]),
    ("factor-huge", {"net.json": _city(_setter("demand_rate", 1e6))},
     ["net.json", ".demand_rate", "<= 100"]),
    ("outline-deep", {"net.json": _city(_setter("outline", "@"))
                      .replace('"@"', "[" * 900 + "]" * 900)},
     ["net.json", "levels of nested"]),
    ("values", {"net.json": "{\"nodes\": [" + "0," * 1_100_000 + "0]}"},
     ["net.json", "1,000,000 values"]),
    ("graphml-outline-deep", {"bad.yaml": "city:\n  source: file\n  path: net.graphml\n",
                              "net.graphml": _graphml_deep()},
     ["net.graphml", ".outline", "levels of nested"]),
    ("graphml-elements", {"bad.yaml": "city:\n  source: file\n  path: net.graphml\n",
                          "net.graphml": "<graphml>" + "<node id='n'/>" * 700_000
                          + "</graphml>"}, ["net.graphml", "600,000 elements"]),
]
for cid, files, words in CITIES:
    CASES.append(_case(f"city2-{cid}", ["check", "bad.yaml"], {**CITY, **files}, words))
# designs too small for their indices, given as options of govsim robustness
DESIGNS: list[tuple[str, list[str], list[str]]] = [
    ("samples-2", ["--samples", "2"], ["--samples", "power of 2 >= 4"]),
    ("samples-6", ["--samples", "6"], ["--samples", "power of 2 >= 4"]),
    ("trajectories-1", ["--trajectories", "1"], ["--trajectories", ">= 2"]),
]
for cid, extra, words in DESIGNS:
    CASES.append(_case(f"design-{cid}", ["robustness", *extra, "--out", "r"], {}, words))

# fit histories that are not what they should be: each set aside with one line, the fit then
# made afresh (exit 0: a damaged history is a record to distrust, not a mistake of the user's)
FIT = ("scenario: s.yaml\nscale: 0.5\nseeds: [0]\nreport_scale: 0.5\nreport_seeds: [0]\n"
       "method: nelder-mead\nbudget: 3\nparameters:\n"
       "  - {path: demand.rate_per_10k_per_day, low: 0.5, high: 6.0}\n"
       "targets:\n  - {measure: satisfaction_rate, period: 2019-01}\n")
FIT_SCENARIO = ("extends: hotline\nname: fit\nstart_date: 2019-01-01\ndays: 31\n"
                "city: {source: synthetic, synthetic: {n_districts: 2, streets_per_district: 2, "
                "population: 20000}}\n")
HEADER = ("demand.rate_per_10k_per_day,loss,stage,scale,seeds,objective,code,residuals,"
          "checksum\n")
HISTORY = ".out.fit-history.csv"
HISTORIES: list[tuple[str, object, list[str]]] = [
    ("random-bytes", _latin(bytes(range(256)) * 8), ["not UTF-8 text", "kept as"]),
    ("folder", {"folder": True}, ["is not a file", "kept as"]),
    ("loss-edited", HEADER + "1.0,0.0,fit,0.5,0,x,y,0.0,sha256:00\n",
     ["1 row(s) failed their check", "kept as"]),
    ("row-cut", HEADER + "1.0,0.5,fi", ["1 row(s) failed their check", "kept as"]),
]
for cid, content, words in HISTORIES:
    case = _case(f"history-{cid}", ["calibrate", "fit.yaml", "--serial", "--dry-run", "--out",
                                    "out"],
                 {"s.yaml": FIT_SCENARIO, "fit.yaml": FIT, HISTORY: content}, words)
    CASES.append({**case, "expect": "kept"})
NEW_CASES = (len(CALIBRATION) + len(SWEEPS) + len(NAMES) + len(FROM) + len(CITIES)
             + len(DESIGNS) + len(HISTORIES))

IDS = [c["id"] for c in CASES]
assert len(set(IDS)) == len(IDS)


def limits() -> None:
    """In the child, before it starts: at most 1.5 GB of address space and a bounded CPU time."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The saved run the `brief --from` cases copy and damage (`SAVED` in their files)."""
    folder = tmp_path_factory.mktemp("saved") / "run"
    sim.run("hotline", days=2, overrides={"city": SMALL_CITY}).save(folder)
    return folder


def _with_saved(cases: list[dict] | dict, saved: Path) -> str:
    """`cases` as JSON text with `SAVED` standing for the saved run's folder."""
    return json.dumps(cases).replace(json.dumps(SAVED)[1:-1], json.dumps(str(saved))[1:-1])


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory, saved: Path) -> dict[str, dict]:
    folder = tmp_path_factory.mktemp("corpus")
    cases = folder / "cases.json"
    results = folder / "results.json"
    cases.write_text(_with_saved(CASES, saved), encoding="utf-8")
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


def _check_kept(case: dict, status: int | None, stderr: str, new_files: list[str],
                escaped: str | None = None) -> None:
    """A damaged fit history: set aside (or found empty) with one line naming it, the fit made
    afresh, its results written, no traceback."""
    assert escaped is None, escaped
    assert "Traceback" not in stderr, stderr
    text = " ".join(stderr.split())  # the console wraps long lines
    said = text[max(0, text.index(HISTORY) - 80):] if HISTORY in text else ""
    for word in case["words"]:
        assert word in said, (word, text)
    assert status == 0, (status, stderr)
    assert "out/fit_history.csv" in new_files, new_files
    if "kept as" in said:
        assert ".out.fit-history.superseded.csv" in new_files, new_files
    assert not [f for f in new_files if ".stage-" in f or ".old-" in f], new_files


def test_corpus_size() -> None:
    assert len(CASES) >= 270 and NEW_CASES >= 60
    commands = {c["argv"][0] for c in CASES if c["argv"]}
    assert commands == {"check", "run", "compare", "brief", "calibrate", "validate-engine",
                        "sweep", "robustness", "frobnicate"}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_bad_input(batch: dict[str, dict], case: dict) -> None:
    got = batch[case["id"]]
    check = _check_kept if case.get("expect") == "kept" else _check
    check(case, got["status"], got["stderr"], got["new_files"], got["escaped"])


#: Every twenty-third case again as a process of its own (each pays the interpreter's start-up,
#: about 4 s, so all 314 would take twenty minutes of CI).
OWN_PROCESS = CASES[::23]


@pytest.mark.slow
@pytest.mark.parametrize("case", OWN_PROCESS, ids=IDS[::23])
def test_bad_input_own_process(tmp_path: Path, case: dict, saved: Path) -> None:
    """A sample of the cases as `python -m sim ...` of its own: the real exit status and
    stderr (the batch above runs them all in one child)."""
    from tests.corpus_driver import listing, write_files

    before = write_files(tmp_path, json.loads(_with_saved(case, saved))["files"])
    done = subprocess.run([sys.executable, "-m", "sim", *case["argv"]], cwd=tmp_path,
                          preexec_fn=limits, capture_output=True, text=True, timeout=120,
                          check=False, env={**__import__("os").environ,
                                            "PYTHONPATH": str(REPO)})
    check = _check_kept if case.get("expect") == "kept" else _check
    check(case, done.returncode, done.stderr, sorted(listing(tmp_path) - before))


# ------------------------------------------------------------------ names, and what reads them
@pytest.mark.parametrize("name", ["hotline-2019", "北京 hotline", "β high", "no ranking (v2)",
                                  "Ω", "北" * 66])
def test_plain_names_in_any_script_are_safe(name: str) -> None:
    from sim.naming import unsafe

    assert unsafe(name) is None


@pytest.mark.parametrize(("name", "why"), [
    ("a\u202eb", "U+202E"), ("a\u200bb", "U+200B"), ("a\x1b[2Jb", "U+001B"),
    ("h\u043etline", "CYRILLIC and LATIN"), ("\uff21BC", "stands for"), ("x\ue000", "U+E000"),
    ("北" * 67, "200 bytes"),
])
def test_unsafe_names_say_why(name: str, why: str) -> None:
    from sim.naming import unsafe

    assert why in (unsafe(name) or "")


def test_folder_names_from_long_names_fit_in_bytes_and_stay_apart() -> None:
    from sim.errors import visible
    from sim.naming import MAX_SLUG_BYTES, slug

    a, b = slug("北" * 100 + "a"), slug("北" * 100 + "b")
    assert a != b and len(a.encode()) <= MAX_SLUG_BYTES and len(b.encode()) <= MAX_SLUG_BYTES
    assert slug("hotline") == "hotline" and slug("a\u202eb") == "ab"
    assert visible("x\u202ey\n\x1b") == "x\\u202ey\\n\\x1b" and visible("北京") == "北京"


def test_a_damaged_saved_run_loads_as_an_input_error(tmp_path: Path) -> None:
    """`sim.Result.load` names the damaged file instead of raising pyarrow's errors."""
    from sim.errors import InputError

    saved = tmp_path / "run"
    sim.run("hotline", days=2, overrides={"city": SMALL_CITY}).save(saved)
    (saved / "daily.parquet").write_bytes(b"PAR1" + bytes(200))
    with pytest.raises(InputError, match=r"daily\.parquet: expected a Parquet table"):
        sim.Result.load(saved)
    _summary().to_parquet(saved / "daily.parquet")
    with pytest.raises(InputError, match=r"daily\.parquet: .*a column of the daily table"):
        sim.Result.load(saved)


@pytest.mark.parametrize(("given", "field"), [({"samples": 2}, "samples"),
                                              ({"samples": 48}, "samples"),
                                              ({"trajectories": 1}, "trajectories")])
def test_robustness_refuses_designs_too_small_before_any_run(tmp_path: Path, given: dict,
                                                             field: str) -> None:
    from sim.errors import InputError
    from sim.evidence.robustness import robustness

    with pytest.raises(InputError, match=f"{field}: expected"):
        robustness(tmp_path / "r", **given)
    assert not (tmp_path / "r").exists()


def test_a_sweep_folder_with_foreign_tables_is_read_from_its_records(tmp_path: Path,
                                                                     capsys) -> None:
    """`govsim sweep --summary` on a finished sweep whose tables are valid Parquet with other
    columns: the run and summary tables are made again from the checked run records; a plan
    without its columns is named as damaged (exit 2, one line), never a KeyError."""
    import pandas as pd

    from sim import cli
    from sim.experiments.plan import PLAN_COLUMNS
    from sim.experiments.store import FRAME_COLUMNS, PLAN

    assert FRAME_COLUMNS[PLAN] == PLAN_COLUMNS
    spec = tmp_path / "s.yaml"
    spec.write_text("scenarios: [hotline]\nset: {days: 2, scale: 0.01}\n"
                    "parameters: {staffing.resolve_prob: {values: [0.3, 0.6]}}\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    assert cli.main(["sweep", str(spec), "--out", str(out), "--serial", "--quiet"]) == 0
    before = pd.read_parquet(out / "summary.parquet")
    foreign = pd.DataFrame({"x": [1]})
    for name in ("runs.parquet", "summary.parquet"):
        foreign.to_parquet(out / name)
    capsys.readouterr()
    assert cli.main(["sweep", "--summary", str(out)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    pd.testing.assert_frame_equal(sim.experiments.load_sweep(out).summary, before,
                                  check_dtype=False, check_categorical=False)
    foreign.to_parquet(out / PLAN)
    assert cli.main(["sweep", "--summary", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "plan.parquet" in err and "damaged" in err


def test_a_saved_table_larger_than_the_memory_free_is_refused_before_it_is_read(
        tmp_path: Path, monkeypatch) -> None:
    from sim import saved
    from sim.errors import InputError

    path = tmp_path / "summary.parquet"
    _summary().to_parquet(path)
    columns = saved.required_columns()["summary"]
    assert len(saved.read_table(path, "summary", columns)) == 1
    monkeypatch.setattr(saved, "_free_memory", lambda: 100)  # bytes
    with pytest.raises(InputError, match=r"summary\.parquet: expected a table that fits in the "
                                         r"memory free"):
        saved.read_table(path, "summary", columns)
