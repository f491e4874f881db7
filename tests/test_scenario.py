"""Tests of the scenario layer: presets, the loader's errors, inheritance, overrides, and docs.

Unit tests of reading and validating scenario files only; no simulation is run.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.city.city import DEPARTMENT_TYPES
from sim.errors import InputError
from sim.reforms import settings
from sim.scenario import docs
from sim.scenario.categories import load_categories
from sim.scenario.loader import PRESETS, check_references, load_scenario, presets_dir, validate
from sim.scenario.schema import Scenario

CATEGORIES = load_categories(None).keys


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as {dotted.path: leaf}; empty dicts, lists and scalars are leaves."""
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def switched_on(scenario: Scenario) -> set[str]:
    """Dotted paths of every boolean switch that is on."""
    return {k for k, v in flatten(scenario.model_dump()).items() if v is True}


def write(tmp_path: Path, content: str | dict[str, Any] | list[Any],
          name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(path: str | Path, overrides: dict[str, Any] | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        load_scenario(path, overrides)
    return info.value


@pytest.fixture(scope="module")
def presets() -> dict[str, Scenario]:
    return {name: load_scenario(presets_dir() / f"{name}.yaml") for name in PRESETS}


# ------------------------------------------------------------------------------------ presets


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_validates(presets: dict[str, Scenario], name: str) -> None:
    scenario = presets[name]
    assert isinstance(scenario, Scenario)
    assert scenario.name == name
    assert scenario.regime == name
    assert scenario.description
    check_references(scenario, load_categories(None), name)  # raises if a name is unknown
    again = validate(scenario.model_dump(mode="json"), name)  # a dump validates back unchanged
    assert again == scenario


def test_fragmented_has_every_mechanism_off(presets: dict[str, Scenario]) -> None:
    enabled = {k for k in switched_on(presets["fragmented"]) if k.endswith(".enabled")}
    assert enabled == set()
    assert not presets["fragmented"].devolution.enforcement_team
    assert not presets["fragmented"].devolution.devolved_powers


@pytest.mark.parametrize("earlier, later", list(itertools.pairwise(PRESETS)))
def test_later_preset_keeps_earlier_mechanisms(presets: dict[str, Scenario], earlier: str,
                                               later: str) -> None:
    before, after = switched_on(presets[earlier]), switched_on(presets[later])
    assert before <= after, f"{later} switches off {sorted(before - after)}"
    assert before < after, f"{later} switches on nothing beyond {earlier}"
    enabled_after = {k for k in after if k.endswith(".enabled")}
    assert {k for k in before if k.endswith(".enabled")} <= enabled_after


def test_presets_switch_on_their_own_mechanisms(presets: dict[str, Scenario]) -> None:
    whistle, hotline, proactive = presets["whistle"], presets["hotline"], presets["proactive"]
    assert whistle.whistle.enabled and whistle.patrols.enabled
    assert whistle.devolution.enforcement_team and not whistle.hotline.enabled
    assert hotline.hotline.enabled and hotline.ranking.enabled and not hotline.themes.enabled
    assert proactive.themes.enabled and proactive.inspection.enabled
    # 未诉先办 alone: the 431 devolved powers are their own switch, on in the history only
    assert not any(presets[k].devolution.devolved_powers for k in presets)
    # inherited parameters survive the chain fragmented -> whistle -> hotline -> proactive;
    # with 12345 the district centres pass its tickets on within hours
    assert proactive.whistle.report_window_minutes == 30
    assert presets["whistle"].fragmented.relay_delay_hours == 48
    assert proactive.fragmented.relay_delay_hours == 4


def test_proactive_preset_adds_only_wei_su_xian_ban_and_history_dates_devolution(
        presets: dict[str, Scenario]) -> None:
    """The presets isolate each reform: proactive switches on 未诉先办's mechanisms and nothing
    else; the 431 devolved powers come on by themselves in the history, at 2020-07-01."""
    added = switched_on(presets["proactive"]) - switched_on(presets["hotline"])
    assert added == {"themes.enabled", "inspection.enabled", "street_governance.enabled"}
    history = load_scenario(presets_dir() / "beijing-2018-2024.yaml")
    dated = {(c.date.isoformat(), k) for c in history.timeline
             for k, v in settings(c.reforms).items() if v is True}
    assert ("2020-07-01", "devolution.devolved_powers") in dated
    assert not any(k == "devolution.devolved_powers" for d, k in dated if d != "2020-07-01")
    assert ("2021-01-01", "themes.enabled") in dated
    assert ("2021-09-24", "street_governance.enabled") in dated


def test_bare_preset_name_resolves(presets: dict[str, Scenario], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # nothing called `hotline` in the working directory
    assert load_scenario("hotline") == presets["hotline"]
    err = load_error("no_such_preset")
    assert err.file == "no_such_preset" and err.field is None
    assert "an existing scenario file" in str(err)


# ---------------------------------------------------------------------------------- overrides


def test_dotted_overrides_apply(presets: dict[str, Scenario]) -> None:
    scenario = load_scenario("whistle", {"whistle.report_window_minutes": 60,
                                         "themes.lag_days": 10, "days": 30})
    assert scenario.whistle.report_window_minutes == 60
    assert scenario.whistle.enabled and scenario.whistle.compliance == 0.95  # siblings kept
    assert scenario.themes.lag_days == 10  # a section the file does not mention
    assert scenario.days == 30
    assert load_scenario("whistle") == presets["whistle"]  # overrides do not leak


def test_override_with_bad_value_is_an_input_error() -> None:
    err = load_error("whistle", {"whistle.report_window_minutes": -5})
    assert err.field == "whistle.report_window_minutes"
    assert err.file == str(presets_dir() / "whistle.yaml")
    assert "> 0" in str(err)


def test_override_through_a_plain_value_is_an_input_error() -> None:
    err = load_error("whistle", {"days.length": 3})
    assert err.field == "days.length"
    assert "a path through mappings" in str(err)


# ------------------------------------------------------------------------------------ extends


def test_extends_deep_merges(tmp_path: Path) -> None:
    write(tmp_path, """\
        name: parent
        days: 100
        whistle:
          enabled: true
          report_window_minutes: 45
          compliance: 0.9
        demand:
          rate_per_10k_per_day: 7
          shocks:
            - {start_day: 0, days: 5, multiplier: 2}
            - {start_day: 10, days: 5, multiplier: 3}
        """, "base/parent.yaml")
    child = write(tmp_path, """\
        extends: base/parent.yaml
        name: child
        whistle:
          compliance: 0.5
        demand:
          shocks:
            - {start_day: 20, days: 1, multiplier: 4, categories: [heating]}
        """, "child.yaml")
    scenario = load_scenario(child)
    assert scenario.name == "child"
    assert scenario.days == 100  # untouched top-level field inherited
    assert scenario.whistle.compliance == 0.5  # the one field the child changes
    assert scenario.whistle.enabled  # the parent's other fields of that section are kept
    assert scenario.whistle.report_window_minutes == 45
    assert scenario.demand.rate_per_10k_per_day == 7
    assert [s.start_day for s in scenario.demand.shocks] == [20]  # lists are replaced whole


def test_extends_chain_and_preset_parent(tmp_path: Path) -> None:
    write(tmp_path, "extends: hotline\nname: mid\nhotline:\n  dispatch_minutes: 9\n", "mid.yaml")
    leaf = write(tmp_path, "extends: mid.yaml\nname: leaf\nranking:\n  enabled: false\n",
                 "leaf.yaml")
    scenario = load_scenario(leaf)
    assert scenario.name == "leaf" and scenario.regime == "hotline"
    assert scenario.hotline.enabled and scenario.hotline.dispatch_minutes == 9
    assert scenario.whistle.enabled  # from whistle.yaml, three levels up
    assert not scenario.ranking.enabled


def test_extends_cycle(tmp_path: Path) -> None:
    a = write(tmp_path, "extends: b.yaml\n", "a.yaml")
    b = write(tmp_path, "extends: a.yaml\n", "b.yaml")
    err = load_error(a)
    assert err.field == "extends"
    assert err.file in {str(a), str(b)}
    assert "cycle" in str(err)


def test_extends_itself(tmp_path: Path) -> None:
    path = write(tmp_path, "extends: self.yaml\n", "self.yaml")
    err = load_error(path)
    assert (err.file, err.field) == (str(path), "extends")
    assert "cycle" in str(err)


def test_extends_not_a_string(tmp_path: Path) -> None:
    path = write(tmp_path, "extends: [a.yaml, b.yaml]\n")
    err = load_error(path)
    assert (err.file, err.field) == (str(path), "extends")
    assert "the path of another scenario file" in str(err)


def test_extends_missing_file_names_the_extending_file(tmp_path: Path) -> None:
    path = write(tmp_path, "extends: no_such_parent.yaml\n")
    err = load_error(path)
    assert (err.file, err.field) == (str(path), "extends")
    assert "no_such_parent.yaml" in str(err)


# ------------------------------------------------------------------------------- file errors


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    err = load_error(path)
    assert (err.file, err.field) == (str(path), None)
    assert "an existing scenario file" in str(err)
    assert str(path) in str(err)


def test_invalid_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "days: [1, 2\nseed: 3\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.field is not None and err.field.startswith("line ")
    assert "valid YAML" in str(err)


def test_yaml_list_at_top_level(tmp_path: Path) -> None:
    path = write(tmp_path, "- days: 3\n- seed: 1\n")
    err = load_error(path)
    assert (err.file, err.field) == (str(path), None)
    assert "a mapping of scenario fields" in str(err)
    assert "list" in str(err)


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    assert load_scenario(write(tmp_path, "")) == Scenario()


@pytest.mark.parametrize("text", ["city: beijing\n", "city:\n"])
def test_city_section_not_a_mapping(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    err = load_error(path)
    assert (err.file, err.field) == (str(path), "city")


def test_impossible_date(tmp_path: Path) -> None:
    path = write(tmp_path, "start_date: 2019-13-01\n")
    err = load_error(path)
    assert err.file == str(path)
    assert err.field in {None, "start_date", "line 1"}
    assert "month" in str(err)


# ------------------------------------------------------------------------------ field errors


def _shares(**changes: float) -> dict[str, float]:
    shares = {k: 1 / len(CATEGORIES) for k in CATEGORIES}
    shares.update(changes)
    return shares


def _without(key: str) -> dict[str, float]:
    rest = [k for k in CATEGORIES if k != key]
    return {k: 1 / len(rest) for k in rest}


FIELD_ERRORS = [
    pytest.param({"colour": "red"}, "colour", ["a known field", "'red'"], id="unknown-top-key"),
    pytest.param({"whistle": {"windw": 45}}, "whistle.windw", ["a known field"],
                 id="unknown-nested-key"),
    pytest.param("days: many\n", "days", ["integer", "'many'"], id="wrong-type"),
    pytest.param({"regime": "utopia"}, "regime", ["one of", "'utopia'"], id="not-a-choice"),
    pytest.param({"demand": {"rate_per_10k_per_day": -1}}, "demand.rate_per_10k_per_day",
                 [">= 0", "-1"], id="negative-rate"),
    pytest.param({"reporting": {"propensity": 1.5}}, "reporting.propensity", ["<= 1", "1.5"],
                 id="probability-above-1"),
    pytest.param({"demand": {"categories": {"traffic": {"street_power": 1.5}}}},
                 "demand.categories.traffic.street_power", ["<= 1"],
                 id="override-probability-above-1"),
    pytest.param({"demand": {"hourly_profile": [1.0] * 23}}, "demand.hourly_profile",
                 ["24"], id="profile-length"),
    pytest.param({"demand": {"shocks": [{"days": 3, "multiplier": 2}]}},
                 "demand.shocks[0].start_day", ["to be given"], id="shock-missing-field"),
    pytest.param({"demand": {"shares": {k: 0.05 for k in CATEGORIES}}}, "demand.shares",
                 ["sum to 1", "0.6"], id="shares-not-summing-to-1"),
    pytest.param({"demand": {"shares": _without("education")}}, "demand.shares",
                 ["every category", "education"], id="shares-missing-category"),
    pytest.param({"demand": {"shares": _shares(bogus=0.0)}}, "demand.shares.bogus",
                 ["a category", "traffic"], id="shares-unknown-category"),
    pytest.param({"demand": {"categories": {"bogus": {"share": 0.1}}}},
                 "demand.categories.bogus", ["a category", "traffic"],
                 id="override-unknown-category"),
    pytest.param({"demand": {"shocks": [{"start_day": 0, "days": 3, "multiplier": 2,
                                         "categories": ["heating", "bogus"]}]}},
                 "demand.shocks[0].categories", ["a category", "'bogus'"],
                 id="shock-unknown-category"),
    pytest.param({"demand": {"categories": {"traffic": {"departments": ["transport",
                                                                         "police"]}}}},
                 "demand.categories.traffic.departments[1]",
                 ["a department type", "public_security", "'police'"],
                 id="unknown-department"),
    pytest.param({"ranking": {"weights": [0.3, 0.3, 0.3]}}, "ranking.weights",
                 ["weights that sum to 1", "0.9"], id="ranking-weights-not-summing-to-1"),
    pytest.param({"ranking": {"advanced_share": 0.6, "governance_share": 0.6}}, "ranking",
                 ["advanced_share + governance_share"], id="ranking-shares-above-1"),
    pytest.param({"city": {"source": "file"}}, "city.path", ["path of a network file"],
                 id="city-file-without-path"),
]


@pytest.mark.parametrize("content, field, fragments", FIELD_ERRORS)
def test_field_error(tmp_path: Path, content: str | dict[str, Any], field: str,
                     fragments: list[str]) -> None:
    path = write(tmp_path, content)
    err = load_error(path)
    assert err.file == str(path)
    assert err.field == field
    message = str(err)
    assert message.startswith(f"{path}: {field}: expected ")
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize("content, field", [
    ({"ranking": {"weights": [0.3, 0.3, 0.3]}}, "ranking.weights"),
    ({"city": {"source": "file"}}, "city.path"),
])
def test_model_validator_errors_name_the_field(tmp_path: Path, content: dict[str, Any],
                                               field: str) -> None:
    err = load_error(write(tmp_path, content))
    assert err.field == field
    assert "value error" not in str(err)


def test_valid_references_pass(tmp_path: Path) -> None:
    path = write(tmp_path, {
        "demand": {
            "shares": _shares(),
            "categories": {"traffic": {"departments": ["transport", DEPARTMENT_TYPES[0]],
                                       "street_power": 0.9}},
            "shocks": [{"start_day": 3, "days": 2, "multiplier": 2.5,
                        "categories": ["heating"]}],
        },
        "city": {"source": "file", "path": "net.json"},
    })
    scenario = load_scenario(path)
    assert scenario.demand.categories["traffic"].street_power == 0.9
    assert scenario.city.path == str(tmp_path / "net.json")  # relative to the scenario file


# --------------------------------------------------------------------------------------- docs


def test_docs_file_is_up_to_date() -> None:
    assert docs.DOC_PATH.is_file(), "run `python -m sim.scenario.docs`"
    assert docs.render() == docs.DOC_PATH.read_text(encoding="utf-8"), (
        "docs/scenarios.md is out of date: run `python -m sim.scenario.docs`")


def test_docs_name_every_field() -> None:
    text = docs.render()
    for path in flatten(Scenario().model_dump()):
        if path == "timeline":  # a list of sections: its item fields are documented
            path = "timeline[].set"
        assert f"| `{path}` |" in text, path
    assert "| `demand.categories.<key>.street_power` |" in text
    assert "| `demand.shocks[].multiplier` |" in text
    assert "| `hotline.time_limits.emergency_hours` |" in text
    for name in PRESETS:
        assert f"### `{name}`" in text
    for key in CATEGORIES:
        assert f"| `{key}` |" in text


def test_docs_check_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scenarios.md"
    assert docs.main(["--check", "--output", str(out)]) == 1  # missing
    assert docs.main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == docs.render()
    assert docs.main(["--check", "--output", str(out)]) == 0
    out.write_text(docs.render() + "\nedited by hand\n", encoding="utf-8")
    assert docs.main(["--check", "--output", str(out)]) == 1
    capsys.readouterr()


# ----------------------------------------------------------------- hostile and huge input
def _load_text(tmp_path: Path, text: str) -> Scenario:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    return load_scenario(path)


@pytest.mark.parametrize(("text", "words"), [
    ("days: 3\ndays: 4\n", ["line 2", "each key once", "'days' is also on line 1"]),
    ("whistle:\n  enabled: true\n  enabled: false\n", ["line 3", "'enabled'"]),
    ("a: &a [*a]\n", ["recursive"]),
    ("x: " + "[" * 3000 + "]" * 3000 + "\n", ["levels of nesting"]),
    ("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
        for p, c in zip("abcdefg", "bcdefgh", strict=True)), ["values with aliases expanded"]),
    ("days: " + "9" * 5000 + "\n", ["valid YAML"]),
])
def test_yaml_guards(tmp_path: Path, text: str, words: list[str]) -> None:
    with pytest.raises(InputError) as info:
        _load_text(tmp_path, text)
    message = str(info.value)
    assert "s.yaml" in message and len(message) < 300
    for word in words:
        assert word in message, message


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    s = _load_text(tmp_path, "whistle: &w\n  enabled: true\n  compliance: 0.5\n"
                   "hotline:\n  enabled: true\ndescription: merged\n")
    assert s.whistle.compliance == 0.5
    path = tmp_path / "m.yaml"
    path.write_text("x: &b {a: 1, b: 2}\ny:\n  <<: *b\n  b: 3\n")
    from sim.inputs import load_yaml

    assert load_yaml(path, "file")["y"] == {"a": 1, "b": 3}


def test_file_size_limit(tmp_path: Path) -> None:
    from sim.inputs import MAX_FILE_BYTES

    path = tmp_path / "big.yaml"
    path.write_text("#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(InputError, match="at most 1,000,000 bytes"):
        load_scenario(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(InputError, match="byte 9.*UTF-8"):
        load_scenario(path)


@pytest.mark.parametrize(("dotted", "value", "words"), [
    ("demand.rate_per_10k_per_day", float("inf"), ["finite"]),
    ("demand.rate_per_10k_per_day", float("nan"), ["finite"]),
    ("demand.rate_per_10k_per_day", 1e12, ["<= 100000"]),
    ("staffing.shift_hours", float("inf"), ["finite"]),
    ("demand.categories", {"market": {"work_hours": float("inf")}}, ["work_hours", "finite"]),
    ("days", 1e26, ["days", "whole number"]),
    ("days", 10 ** 12, ["days", "<= 3650"]),
    ("start_date", "9999-12-31", ["start_date", "as_of.date"]),  # a snapshot's date is as_of's
    ("name", "x" * 500, ["name", "at most 100"]),
    ("city.layout_seed", -1, [">= 0"]),
    ("demand.hourly_profile", [0] * 24, ["at least one positive"]),
    ("city", {"source": "synthetic", "synthetic": {"n_districts": 200,
                                                   "streets_per_district": 1000}},
     ["10,000 streets"]),
])
def test_numbers_are_bounded(dotted: str, value: Any, words: list[str]) -> None:
    with pytest.raises(InputError) as info:
        load_scenario("hotline", {dotted: value})
    for word in words:
        assert word in str(info.value), str(info.value)
    assert len(str(info.value)) < 400


def test_message_never_prints_a_whole_value() -> None:
    err = InputError("f.yaml", "name", "a name", "x" * 1_000_000)
    assert len(str(err)) < 200
    err = InputError("f.yaml", "days", "a day", 10 ** 4000)
    assert len(str(err)) < 200


def test_check_city_names_shock_districts_and_size() -> None:
    from sim.city import synthetic_city
    from sim.scenario.loader import check_city

    city = synthetic_city(2, 2, 20_000)
    shock = {"start_day": 0, "days": 3, "multiplier": 2.0, "districts": ["Atlantis"]}
    spec = load_scenario("hotline", {"demand.shocks": [shock]})
    with pytest.raises(InputError, match=r"demand.shocks\[0\].districts.*Atlantis"):
        check_city(spec, city, "f.yaml")
    later = load_scenario("hotline", {"timeline": [{"date": "2019-02-01",
                                                    "set": {"demand.shocks": [shock]}}]})
    with pytest.raises(InputError, match=r"timeline\[0\].set.demand.shocks\[0\]"):
        check_city(later, city, "f.yaml")
    big = load_scenario("hotline", {"demand.rate_per_10k_per_day": 1000, "days": 3650})
    with pytest.raises(InputError, match="at most 100,000,000 simulated problems"):
        check_city(big, synthetic_city(1, 1, 10_000_000), "f.yaml")
    check_city(load_scenario("hotline"), city, "f.yaml")  # fine


def test_calibrated_history_at_full_scale_is_not_too_big() -> None:
    """The largest run the project ships (seven years of Beijing at 1:1) passes the size limit."""
    from sim.city.beijing import beijing_city
    from sim.scenario.loader import check_city

    history = presets_dir() / "beijing-2018-2024.yaml"
    check_city(load_scenario(history), beijing_city(), str(history))


def test_seed_of_any_size_reaches_the_engine() -> None:
    import sim
    from tests.conftest import SMALL_CITY

    seed = 2 ** 70 + 1
    r = sim.run({"city": SMALL_CITY, "days": 2, "seed": seed})
    assert r.scenario.seed == seed
    assert r.summary["seed"].iloc[0] == str(seed)  # 64-bit tables hold it as digits
