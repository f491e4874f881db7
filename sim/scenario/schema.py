"""The scenario: every parameter of a run, typed, defaulted and documented in one place.

A scenario file (YAML) is validated against these models; unknown keys are errors. Each regime of
docs/model.md is a set of mechanism sections switched on (`enabled: true`) with their parameters, so a
partial reform is just another combination. `docs/scenarios.md` is generated from the field
descriptions below (`python -m sim.scenario.docs`).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.naming import MAX_NAME_BYTES, unsafe

#: Bounds of the scenario's numbers. Every number must also be finite (no .inf, no .nan); the
#: range of each field is listed in docs/scenarios.md.
MAX_DAYS = 3650  # days of a run, and of its warm-up: ten years
MAX_HOURS = 8760.0  # any delay, time limit or hours of work: a year
MAX_MINUTES = 10_080.0  # seat times, windows and lateness in minutes: a week
MAX_FACTOR = 100.0  # multipliers and sensitivities
MAX_PER_10K = 10_000.0  # staff, seats or chiefs per 10,000 residents: one per resident
MAX_RATE_PER_10K = 100_000.0  # problems per 10,000 residents per day (10 a resident a day)
MAX_DAILY_RATE = 100.0  # chance-rates per day (discovery)
MAX_MEAN_COUNT = 100.0  # mean hand-offs, consultations per request
MAX_STAFF = 1_000_000.0  # staff of all city departments; staff hours of a project
MAX_COUNT = 100  # bounces, reopens
MAX_DISTRICTS = 200  # districts of a synthetic city
MAX_STREETS_PER_DISTRICT = 1000  # streets per district of a synthetic city
MAX_STREETS = 10_000  # streets of a synthetic city in all
MAX_POPULATION = 100_000_000  # residents of a synthetic city
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2200, 12, 31)
MAX_NAME = 100  # characters of a scenario's name (it names result folders)

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Hours = Annotated[float, Field(ge=0.0, le=MAX_HOURS)]
PositiveHours = Annotated[float, Field(gt=0.0, le=MAX_HOURS)]
PositiveMinutes = Annotated[float, Field(gt=0.0, le=MAX_MINUTES)]
Minutes = Annotated[float, Field(ge=0.0, le=MAX_MINUTES)]
Factor = Annotated[float, Field(ge=0.0, le=MAX_FACTOR)]
PositiveFactor = Annotated[float, Field(gt=0.0, le=MAX_FACTOR)]
PerTenK = Annotated[float, Field(ge=0.0, le=MAX_PER_10K)]
PositivePerTenK = Annotated[float, Field(gt=0.0, le=MAX_PER_10K)]
DailyRate = Annotated[float, Field(ge=0.0, le=MAX_DAILY_RATE)]
MeanCount = Annotated[float, Field(ge=0.0, le=MAX_MEAN_COUNT)]
Weight = Annotated[float, Field(ge=0.0, le=1e6)]
Growth = Annotated[float, Field(ge=-0.9, le=1.0)]
Date = Annotated[dt.date, Field(ge=MIN_DATE, le=MAX_DATE)]


class Section(BaseModel):
    """Base of every section: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


# --------------------------------------------------------------------------------------- city
class SyntheticCity(Section):
    """A generated city: equal-sized districts of streets, communities inside each street."""

    n_districts: int = Field(4, gt=0, le=MAX_DISTRICTS, description="Number of districts.")
    streets_per_district: int = Field(5, gt=0, le=MAX_STREETS_PER_DISTRICT,
                                      description="Streets/townships per district.")
    population: int = Field(500_000, gt=0, le=MAX_POPULATION,
                            description="Residents of the whole city.")

    @model_validator(mode="after")
    def _streets(self) -> SyntheticCity:
        streets = self.n_districts * self.streets_per_district
        if streets > MAX_STREETS:
            raise ValueError(f"at most {MAX_STREETS:,} streets in all (n_districts x "
                             f"streets_per_district is {streets:,})")
        return self


class CityConfig(Section):
    """Which city: Beijing's default, a synthetic one, or a network from a file."""

    source: Literal["beijing", "synthetic", "file"] = Field(
        "beijing",
        description="`beijing`: the 16 districts with 2020 census populations and real "
        "outlines, and their 343 streets/towns/townships by their real names and codes; "
        "`synthetic`: a generated city (see `synthetic`); `file`: a network saved with "
        "`sim.city.save_city` (`path`, .json or .graphml; format in docs/city.md).",
    )
    path: str | None = Field(None, description="Network file when `source: file` (relative "
                             "paths are relative to the scenario file).")
    synthetic: SyntheticCity = Field(default_factory=SyntheticCity,
                                     description="Size of the city when `source: synthetic`.")
    layout_seed: int = Field(0, ge=0,
                             description="Seed of the city layout (street sizes, adjacency, "
                             "communities); kept apart from the run seed so replications share "
                             "one city.")



# ------------------------------------------------------------------------------------- demand
class Shock(Section):
    """A window in which occurrence rates multiply: a storm, an epidemic, a cold snap."""

    start_day: int = Field(ge=0, le=2 * MAX_DAYS,
                           description="First day of the shock (0 = start_date).")
    days: int = Field(gt=0, le=2 * MAX_DAYS, description="Length of the window in days.")
    multiplier: PositiveFactor = Field(description="Factor on occurrence rates inside the window.")
    categories: list[str] | None = Field(None, description="Categories affected (all if omitted).")
    districts: list[str] | None = Field(None, description="Districts affected (all if omitted).")


class CategoryOverride(Section):
    """Change some columns of the category table (`sim/data/categories.csv`) for one category."""

    share: Probability | None = Field(None, description="Share of all demand (the shares are "
                                      "renormalised to sum to 1).")
    departments: list[str] | None = Field(None, min_length=1, max_length=3, description=
                                          "Department types holding authority, lead first "
                                          "(names from sim.city.DEPARTMENT_TYPES).")
    street_visible: bool | None = None
    street_power: Probability | None = None
    devolvable: Probability | None = None
    work_hours: PositiveHours | None = None
    multi_dept_prob: Probability | None = None
    cross_border_share: Probability | None = None
    unreasonable_share: Probability | None = None
    root_cause_share: Probability | None = None
    emergency_share: Probability | None = None
    territorial: Probability | None = None
    growth: Annotated[float, Field(ge=0.0, le=2.0)] | None = Field(
        None, description="How much of the city's demand growth (`demand.growth_per_year`) "
        "the category follows: its occurrence grows as the city's growth level to this power "
        "(1: at the city's rate; 0: flat; 0.5: at about half the rate).")


class DemandConfig(Section):
    """How many problems occur, of which categories, when, and how demand grows or surges."""

    rate_per_10k_per_day: Annotated[float, Field(ge=0.0, le=MAX_RATE_PER_10K)] = Field(
        5.0, description="Problems occurring per 10,000 residents per day, all categories, "
        "before cycles, growth and shocks (real-city units, independent of `scale`).")
    shares: dict[str, Probability] | None = Field(
        None, description="Share of demand per category (must cover every category and sum "
        "to 1); default: the `volume` column of the category table, normalised.")
    categories: dict[str, CategoryOverride] = Field(
        default_factory=dict, description="Per-category overrides of the category table.")
    hourly_profile: list[Weight] = Field(
        default_factory=lambda: [0.3, 0.2, 0.15, 0.15, 0.2, 0.4, 0.8, 1.2, 1.5, 1.6, 1.6, 1.4,
                                 1.3, 1.4, 1.5, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0, 0.8, 0.6, 0.4],
        min_length=24, max_length=24,
        description="Relative occurrence intensity per hour of the day (24 values, normalised).")
    weekly_profile: list[Weight] = Field(
        default_factory=lambda: [1.05, 1.0, 1.0, 1.0, 1.0, 0.95, 0.95],
        min_length=7, max_length=7,
        description="Relative intensity Monday..Sunday (normalised to mean 1).")
    heating_season_multiplier: Factor = Field(
        4.0, description="Occurrence of `season: heating` categories inside the heating "
        "season relative to outside it (the annual volume keeps the category's share).")
    heating_season: tuple[str, str] = Field(("11-15", "03-15"),
                                            description="Heating season as (MM-DD, MM-DD).")
    growth_per_year: Growth = Field(0.0, description="Exponential growth of "
                                   "occurrence per year (0.05 = +5 %/year).")
    growth_level: Annotated[float, Field(gt=0.0, le=MAX_FACTOR)] = Field(
        1.0, description="Level demand growth has reached when the run starts (its first day, "
        "warm-up included), as a factor on `rate_per_10k_per_day` (a category follows it to "
        "the power of its `growth`). 1 for a scenario that starts at its own base; a snapshot "
        "of a history (`as_of`) carries the level the history had reached. Read at the start "
        "only (a timeline cannot set it).")
    source_cv: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.5, description="Root causes are persistent sources (`sim.mechanisms.sources`): the "
        "`root_cause_share` of each category's demand comes from sources whose intensity in "
        "each street is a gamma multiplier of mean 1 (weighted by residents) and of this "
        "coefficient of variation, drawn once per run from `seed` and read at the start of "
        "the run. 0: every street alike; 1 (exponential): the tenth of streets with the "
        "strongest source of a category produce about a third of its root-cause problems; "
        "2: about three fifths. Assumed: complaint records are known to concentrate (Beijing "
        "names the streets with the most complaints each month for governance), but no "
        "published figure sizes it; a sweep over it is the honest use. The default, 0.5, "
        "spreads sources without moving the presets' latency (staff follow residents, not "
        "complaints: at 1 the hotline's mean latency rises by a quarter; docs/proactive.md).")
    source_recovery_per_year: Annotated[float, Field(ge=0.0, le=10.0)] = Field(
        0.25, description="Rate per year (continuous) at which what source governance removed "
        "comes back, new causes replacing those removed (new buildings, new disputes): 0.25 "
        "brings half of a removal back in about 2.8 years; 0: removals are for good, and "
        "repeated themes then drain root-cause demand year after year. Assumed.")
    shocks: list[Shock] = Field(default_factory=list, description="Shock windows.")

    @field_validator("hourly_profile", "weekly_profile")
    @classmethod
    def _some_positive(cls, profile: list[float]) -> list[float]:
        if not any(v > 0 for v in profile):
            raise ValueError("at least one positive value")
        return profile


# ---------------------------------------------------------------------------------- reporting
class ReportingConfig(Section):
    """Whether and how fast residents report, and how trust feeds back on reporting."""

    propensity: Probability = Field(0.35, description="Chance a resident reports a problem "
                                    "through the fragmented channels, at trust 0.5.")
    mean_delay_hours: PositiveHours = Field(12.0,
                                            description="Mean delay from occurrence to report.")
    to_street_share: Probability = Field(0.5, description="Fragmented channels: share of "
                                         "reports made to the street office (the rest go to "
                                         "a department's own line).")
    dept_line_delay_hours: Hours = Field(24.0, description="Fragmented channels: mean "
                                               "extra delay of a department's own line before "
                                               "the case reaches the department.")
    initial_trust: Probability = Field(0.5, description="Initial trust of every cohort.")
    trust_sensitivity: Factor = Field(1.0, description="How strongly trust moves the "
                                           "reporting propensity (0: not at all).")
    trust_learning_rate: Probability = Field(0.02, description="Weight of one experience "
                                             "(satisfied or not) in a cohort's trust; scaled "
                                             "by the cohort's experiences per day.")
    trust_scope: Literal["street", "community"] = Field(
        "street", description="Whose experiences a cohort's trust learns from: its whole "
        "street's (word of mouth; the same at every scale) or its own community's only. At "
        "scale below 1 a community's few simulated experiences each stand for many residents, "
        "so `community` trust moves in big steps and its level depends on scale "
        "(docs/performance.md, 'Scale').")


class StaffingConfig(Section):
    """Who is on duty, in real-city units; `scale` shrinks staff with demand."""

    street_staff_per_10k: PositivePerTenK = Field(1.2, description="Street office case staff per "
                                           "10,000 residents of the street.")
    dept_staff_per_10k: PositivePerTenK = Field(4.0,
                                                description="Case staff of all of a district's "
                                         "departments together per 10,000 district residents, "
                                         "split between department types by the work their "
                                         "categories bring (each type at least 10 % of an "
                                         "even split).")
    district_centre_staff_per_10k: PositivePerTenK = Field(0.15, description="District command "
                                                    "centre staff per 10,000 residents.")
    city_dept_staff: Annotated[float, Field(gt=0.0, le=MAX_STAFF)] = Field(100.0,
                                            description="Case staff of all city-level "
                                      "departments together, split like a district's.")
    shift_hours: Annotated[float, Field(gt=0, le=24)] = Field(
        8.0, description="Working hours per day of streets, departments and district centres.")
    shift_start_hour: Annotated[float, Field(ge=0, lt=24)] = Field(8.5, description="Start "
                                                                    "of the working day.")
    dept_grassroots_share: Probability = Field(0.6, description="Share of department hours "
                                               "available for residents' cases (the rest serves "
                                               "upward accountability).")
    resolve_prob: Probability = Field(0.8, description="Chance that handling a resolvable case "
                                      "actually resolves it (else it is closed unresolved).")
    work_cv: Annotated[float, Field(ge=0.0, le=10.0)] = Field(1.0,
                                    description="Coefficient of variation of work per "
                                 "handling (1 = exponential; 0 = deterministic; else gamma).")
    growth_per_year: Growth = Field(0.0, description="Growth of all case staff per "
                                   "year (head count added as volume rises), applied month by "
                                   "month; a new rate compounds from the level reached. The "
                                   "hotline grows with it unless its head count is given "
                                   "(`hotline.operators`).")
    productivity_growth_per_year: Growth = Field(
        0.0, description="Growth per year of handling productivity (standard answers, better "
        "dispatch, shared case records): the staff hours of a handling by a street office, its "
        "enforcement team or a department (the category's `work_hours`, also in whistles and "
        "border work) are divided by (1 + this) per year, applied month by month; a new rate "
        "compounds from the level reached. Head count is `growth_per_year`; the hotline's seat "
        "time is `hotline.calls_per_shift`. 0: every handling costs the same hours throughout.")
    triage_hours: Hours = Field(0.25, description="Staff hours to screen a case that is "
                                      "passed on rather than handled.")
    min_department_type_share: Probability = Field(
        0.1, description="Floor of each department type's share of its district's department "
        "staff, as a share of an even split (0.1: at least a tenth of an even split), so that no "
        "type is left without staff when its categories bring little work (`sim.staffing`).")
    staff_level: Annotated[float, Field(gt=0.0, le=MAX_FACTOR)] = Field(
        1.0, description="Level `growth_per_year` has brought head count to when the run "
        "starts, as a factor on the staff fields above (and on the hotline's seats unless "
        "`hotline.operators` is given). 1 for a scenario at its own base; a snapshot of a "
        "history (`as_of`) carries the level reached. Read at the start only.")
    productivity_level: Annotated[float, Field(gt=0.0, le=MAX_FACTOR)] = Field(
        1.0, description="Level `productivity_growth_per_year` has brought handling "
        "productivity to when the run starts: a handling's staff hours are the category's "
        "`work_hours` divided by it. 1 for a scenario at its own base; a snapshot of a history "
        "(`as_of`) carries the level reached. Read at the start only.")


# --------------------------------------------------------------------- 1. fragmented baseline
class FragmentedConfig(Section):
    """条块分割: relays through the district, sequential hand-offs and buck-passing."""

    relay_delay_hours: Hours = Field(48.0, description="Mean delay of the district "
                                           "relay (区级中转) from street report to department.")
    internal_handoffs: MeanCount = Field(2.0, description="Mean internal hand-offs between "
                                           "a street office's 20+ upward-facing sections.")
    internal_handoff_hours: Hours = Field(8.0, description="Mean delay per internal "
                                                "hand-off.")
    bounce_prob: Probability = Field(0.3, description="Chance a department pushes a relayed "
                                     "case back or on (推诿扯皮) at each hand-off.")
    bounce_delay_hours: Hours = Field(48.0, description="Mean delay a bounce adds.")
    max_bounces: int = Field(3, ge=0, le=MAX_COUNT,
                             description="After this many bounces the case is closed "
                             "on paper, unresolved.")
    paper_close_prob: Probability = Field(0.15, description="Chance, at each bounce, that the "
                                          "case is closed on paper unresolved.")
    border_wait_hours: Hours = Field(72.0, description="Mean extra wait for the other "
                                           "side of a street or district border.")


# --------------------------------------------------------------------------- 2. the whistle
class WhistleConfig(Section):
    """街乡吹哨、部门报到: joint, parallel on-site work within the report window."""

    enabled: bool = Field(False, description="Streets whistle for cases beyond their powers.")
    report_window_minutes: PositiveMinutes = Field(30.0,
                                                   description="Departments must report on site "
                                            "within this window.")
    compliance: Probability = Field(0.95, description="Share of departments reporting within "
                                    "the window (streets evaluate them).")
    late_mean_minutes: PositiveMinutes = Field(90.0,
                                               description="Mean lateness beyond the window of "
                                        "a non-compliant department (recorded as late).")
    joint_work_factor: PositiveFactor = Field(0.8, description="Joint on-site work time relative "
                                        "to the slowest department's own work.")
    joint_across_borders: bool = Field(False, description="联合哨: neighbouring streets "
                                       "whistle together across borders (no border wait).")
    restructured_sections: bool = Field(False, description="'6+1+3' downward-facing units "
                                        "replace the 20+ sections.")
    restructured_handoffs: MeanCount = Field(0.3, description="Mean internal hand-offs "
                                               "once restructured.")


class DevolutionConfig(Section):
    """Forces sink down: enforcement teams at streets, and devolved enforcement powers."""

    enforcement_team: bool = Field(False, description="Each street has an enforcement team "
                                   "(城管 staff transferred) for `enforcement` categories.")
    transfer_share: Probability = Field(0.8, description="Share of each district's "
                                        "urban-management (城管) case staff moved to the "
                                        "enforcement teams of its streets once forces sink "
                                        "down, split by residents: staff are moved, not "
                                        "created (城管执法队员的编制、档案都正式移交到街乡镇, "
                                        "[S2]); the share is assumed, the district keeping a "
                                        "fifth for its own enforcement.")
    devolved_powers: bool = Field(False, description="Powers devolved to streets (431 from "
                                  "2020-07-01): each category's `devolvable` share of cases "
                                  "becomes the street's to resolve.")
    powers_count: int = Field(431, ge=0, le=100_000,
                              description="Number of devolved powers (reported; the "
                                                     "effect is through `devolvable`).")


class PatrolConfig(Section):
    """Street/lane chiefs (街巷长) and grid staff discover visible problems."""

    enabled: bool = Field(False, description="Patrols discover `street_visible` problems.")
    chiefs_per_10k: PerTenK = Field(6.8, description="Street/lane chiefs per 10,000 "
                                        "residents (about 14,900 in Beijing).")
    discovery_rate_per_day: DailyRate = Field(0.5, description="Daily chance-rate at which "
                                                "patrols find a visible problem, at the "
                                                "reference chief density.")
    reference_chiefs_per_10k: PositivePerTenK = Field(6.8, description="Density at which "
                                               "`discovery_rate_per_day` applies.")


# ------------------------------------------------------------------------------ 3. hotline
class TimeLimits(Section):
    """12345 time limits by class (2021 draft local standard); also residents' expectation."""

    emergency_hours: PositiveHours = Field(2.0, description="Emergencies.")
    utility_hours: PositiveHours = Field(24.0, description="Water, power, gas, heat.")
    general_hours: PositiveHours = Field(168.0, description="General requests (7 days).")
    complex_hours: PositiveHours = Field(360.0, description="Complex requests and those needing "
                                    "several departments (15 days).")


class HotlineConfig(Section):
    """接诉即办: one 12345 line, direct dispatch, time limits, callbacks."""

    enabled: bool = Field(False, description="All channels merged into 12345.")
    induced_reporting: Factor = Field(1.8, description="Factor on reporting propensity "
                                           "once one easy line exists (capped at 1).")
    seats_per_10k: PerTenK = Field(0.1, description="Call-taker seats staffed around the "
                                       "clock per 10,000 residents (0.1: about 220 at any "
                                       "time, some 700 call-takers on three shifts).")
    operators: Annotated[float, Field(gt=0.0, le=MAX_STAFF)] | None = Field(
        None, description="Call-takers on the roster, whole city (real people; the sampled "
        "share below scale 1), each working one `operator_shift_hours` shift a day: operators "
        "x shift / 24 seats are staffed at any time, round the clock. Replaces `seats_per_10k` "
        "and does not grow with `staffing.growth_per_year` (a timeline gives its history). "
        "1,710 in December 2024 (Bernama and beijing.gov.cn, 2024-12-18). null: seats from "
        "`seats_per_10k`.")
    operator_shift_hours: Annotated[float, Field(gt=0, le=24)] = Field(
        8.0, description="Hours of a call-taker's shift, one a day (8: Bernama, 2024-12-18). "
        "Read with `operators` and `calls_per_shift`.")
    calls_per_shift: Annotated[float, Field(gt=0.0, le=10_000.0)] | None = Field(
        None, description="Contacts (requests and consultations alike) one call-taker answers "
        "in a shift: every contact then takes `operator_shift_hours` x 60 / this minutes of "
        "seat time (90: 5.3 minutes), replacing `intake_minutes` and `consultation_minutes`, "
        "so the line answers at most operators x calls_per_shift contacts a day. 80-100 in "
        "2024 (Bernama, 2024-12-18). null: seat times from the two fields.")
    intake_minutes: PositiveMinutes = Field(6.0, description="Mean seat time per request "
                                            "(unless `calls_per_shift` is set).")
    consultations_per_request: MeanCount = Field(1.44, description="Consultations answered "
                                                   "on the line per dispatched request (59:41): "
                                                   "the contacts the line answers without "
                                                   "dispatch. 59:41 in 2020 (annual report) and "
                                                   "58.5:41.5 over 2019 to November 2021 (Beijing "
                                                   "Youth Daily, December 2021).")
    consultation_minutes: PositiveMinutes = Field(4.0,
                                                  description="Mean seat time per consultation "
                                                  "(unless `calls_per_shift` is set).")
    dispatch_minutes: Minutes = Field(5.0, description="Mean dispatch delay.")
    direct_dispatch: bool = Field(True, description="直派街乡镇: clear cases go straight to the "
                                  "street, skipping the district relay.")
    unclear_share: Probability = Field(0.1, description="Share of requests with unclear "
                                       "jurisdiction, sent to the district as backstop.")
    time_limits: TimeLimits = Field(default_factory=TimeLimits, description="Time limits by "
                                    "class (emergency 2 h, utility 24 h, general 7 d, complex "
                                    "15 d).")
    response_limit_hours: PositiveHours = Field(24.0, description="A unit 'responds' when the case "
                                           "reaches it within this time of the report.")
    callback_delay_hours: Hours = Field(24.0, description="Delay from closure to the "
                                              "callback.")
    reopen_prob: Probability = Field(0.5, description="Chance an unresolved callback reopens "
                                     "the ticket (一张单子管到底).")
    max_reopens: int = Field(2, ge=0, le=MAX_COUNT, description="Reopens per ticket at most.")


class SatisfactionConfig(Section):
    """How a called-back resident rates the outcome."""

    resolved_on_time: Probability = Field(0.92, description="Satisfied if resolved within the "
                                          "time limit.")
    resolved_late: Probability = Field(0.6, description="Satisfied if resolved after it.")
    unresolved: Probability = Field(0.15, description="Chance a caller whose ticket was "
                                    "answered (handled and called back) but not resolved still "
                                    "says 'satisfied': what tells being answered from being "
                                    "resolved. Moves satisfaction, not resolution. A timeline "
                                    "may change it (`satisfaction.unresolved`). Assumed 0.15; "
                                    "Beijing's published pairs imply it rose: with 0.92 for "
                                    "a ticket resolved on time, January 2019 (resolution "
                                    "53.09 %, satisfaction 64.61 %) implies about 0.34 and "
                                    "October 2019 (74.36 %, 85.39 %) about 0.66.")


class RankingConfig(Section):
    """Scoring (30/35/35) and the monthly four-class ranking with its pressure on effort."""

    enabled: bool = Field(False, description="Units are scored and ranked monthly.")
    weights: tuple[Probability, Probability, Probability] = Field(
        (0.30, 0.35, 0.35), description="Weights of response, resolution and satisfaction "
        "rates.")
    advanced_share: Probability = Field(0.2, description="Top share ranked 先进.")
    governance_share: Probability = Field(0.1, description="Bottom share ranked 治理.")
    effort_step: Annotated[float, Field(ge=0.0, le=10.0)] = Field(0.1,
                                        description="Extra effort (share of shift as "
                                     "overtime) a unit ranked 整改 adds next month; 治理 adds "
                                     "twice this.")
    effort_max: Annotated[float, Field(ge=1.0, le=10.0)] = Field(1.5, description="Effort at most "
                                                        "(1.5 = 50 % overtime).")
    effort_decay: Annotated[float, Field(ge=0.0, le=10.0)] = Field(0.05,
                                         description="Effort given back per month by "
                                      "units ranked 先进 or 进步.")
    diligence_gain: Factor = Field(0.5, description="How much extra effort raises the "
                                        "chance handling resolves a case (toward 1).")
    courtesy_gain: Factor = Field(0.0, description="How much extra effort raises the chance "
                                  "a caller left unresolved is still satisfied (kept informed, "
                                  "the reason explained), toward 1: units scored 35 % on "
                                  "satisfaction learn to answer as well as to resolve. 0: "
                                  "effort moves resolution only. Fitted in the history.")
    supervision_bounce_factor: Probability = Field(0.2, description="Buck-passing left under "
                                                   "supervision (factor on bounce_prob).")
    exclude_unreasonable: bool = Field(False, description="Leave unreasonable requests out of "
                                       "the score.")

    @field_validator("weights")
    @classmethod
    def _weights_sum(cls, weights: tuple[float, float, float]) -> tuple[float, float, float]:
        if abs(sum(weights) - 1.0) > 1e-6:
            raise ValueError(f"weights that sum to 1 (they sum to {sum(weights):g})")
        return weights

    @model_validator(mode="after")
    def _shares_fit(self) -> RankingConfig:
        if self.advanced_share + self.governance_share > 1.0:
            raise ValueError("advanced_share + governance_share at most 1")
        return self


# ----------------------------------------------------------------------------- 4. proactive
class ThemesConfig(Section):
    """未诉先办 每月一题: a monthly theme from the complaint record, city-wide policy for it and
    source-governance projects on its hot spots (`sim.mechanisms.themes`)."""

    enabled: bool = Field(False, description="Pick a theme each month from last month's record: "
                          "the category with the most complaints, among those not chosen in "
                          "the last `repeat_after_months` months.")
    problems_per_month: int = Field(3, ge=0, le=1000, description="Hot-spot projects per theme "
                                    "(1 theme and 2–3 problems a month in Beijing: 27 problems "
                                    "in 2021, seed 004), each on `hot_spot_streets` streets.")
    hot_spot_streets: int = Field(10, ge=1, le=MAX_STREETS,
                                  description="Streets per project: the densest in last "
                                  "month's complaints of the theme category (per resident); "
                                  "a street treated before is chosen again if it still is. "
                                  "Assumed.")
    lag_days: int = Field(60, ge=0, le=MAX_DAYS, description="Days before a project or policy "
                          "takes effect. Assumed.")
    effectiveness: Probability = Field(0.5, description="Share of the theme category's source "
                                       "intensity a hot-spot project removes in its streets "
                                       "(of what is left: two projects at 0.5 leave 0.25). "
                                       "Assumed.")
    cost_staff_hours: Annotated[float, Field(ge=0.0, le=MAX_STAFF)] = Field(200.0,
                                             description="Staff hours per project per "
                                          "street, charged to the street over the lag. "
                                          "Assumed.")
    policy_effectiveness: Probability = Field(0.1, description="City-wide policy (a rule "
                                              "changed for the whole category; 400 policies "
                                              "for 60+ problems by January 2025): share of the "
                                              "theme category's source intensity removed in "
                                              "every street after the lag. 0: no policy "
                                              "work. Assumed.")
    policy_cost_staff_hours: Annotated[float, Field(ge=0.0, le=MAX_STAFF)] = Field(
        500.0, description="Staff hours of a theme's policy work, charged over the lag to "
        "the city-level department that leads the category (the sampled share at scale below "
        "1). Assumed.")
    repeat_themes: bool = Field(True, description="A category may be chosen again while it "
                                "still tops the record (after `repeat_after_months`); false: "
                                "each category once, so themes run out after as many months "
                                "as there are categories.")
    repeat_after_months: int = Field(12, ge=1, le=MAX_DAYS, description="Months before a "
                                     "chosen category may be chosen again: 12, one year's "
                                     "themes all different (2021: 12 themes, seed 004), a "
                                     "category still on top comes back the next year.")
    city_theme: str | None = Field(None, description="A category the city takes up itself at "
                                   "the next month's start, whatever the record and whether "
                                   "or not 每月一题 runs: its city-wide policy, and hot-spot "
                                   "projects where last month's complaints show them. Set by a "
                                   "dated change (the history: heating before the 2020-21 "
                                   "season); taken up once each time it is set.")

    @field_validator("city_theme")
    @classmethod
    def _known_category(cls, value: str | None) -> str | None:
        from sim.scenario.categories import category_keys

        if value is not None and value not in category_keys():
            raise ValueError(f"one of the categories ({', '.join(category_keys())})")
        return value


class StreetGovernanceConfig(Section):
    """主动治理: streets' own proactive governance (北京市接诉即办工作条例, in force 2021-09-24):
    every few months each street works on the category in which it has the most complaints
    beyond the city's rate for its residents."""

    enabled: bool = Field(False, description="Streets govern their own excess complaint "
                          "categories at their own cost.")
    every_months: int = Field(3, ge=1, le=120, description="Months between a street's "
                              "projects. Assumed.")
    effectiveness: Probability = Field(0.3, description="Share of the category's source "
                                       "intensity in the street a project removes (of what "
                                       "is left). Assumed.")
    lag_days: int = Field(60, ge=0, le=MAX_DAYS, description="Days before it takes effect. "
                          "Assumed.")
    cost_staff_hours: Annotated[float, Field(ge=0.0, le=MAX_STAFF)] = Field(
        100.0, description="Staff hours per project, charged to the street over the lag. "
        "Assumed.")


class InspectionConfig(Section):
    """Proactive inspection and hot-spot targeting: find problems before complaints."""

    enabled: bool = Field(False, description="Inspect theme categories at hot spots, and "
                                             "heating before and during the season.")
    discovery_rate_per_day: DailyRate = Field(0.3, description="Daily chance-rate of finding "
                                                "a problem of an inspected category.")
    pre_season_heating: bool = Field(True, description="Inspect heating from 1 November.")


# ------------------------------------------------------------------------------- timeline
#: Top-level fields a timeline may not change: they define the run itself.
FROZEN_FIELDS = ("name", "description", "regime", "start_date", "days", "warmup_days", "scale",
                 "seed", "city", "timeline", "based_on")
#: Fields below the top level that a timeline may not change: levels read at the start.
FROZEN_PATHS = ("demand.growth_level", "staffing.staff_level", "staffing.productivity_level")


class Change(Section):
    """A dated change of the scenario: mechanisms switched on or off, parameters set."""

    date: Date = Field(description="Day the change takes effect (from the start of the day). "
                          "Changes dated on or before the first simulated day apply from the "
                          "start; changes after the last day never happen.")
    note: str = Field("", description="What happened then (shown in tables and charts).")
    reforms: list[str] = Field(default_factory=list, description="Reforms that come into "
                               "force: a reform's name switches on all its mechanisms "
                               "(`whistle`, `hotline`, `devolved_powers`, `proactive`, "
                               "`regulation_2021`), `reform.mechanism` one of them "
                               "(`proactive.street_governance`); what each sets is listed in "
                               "docs/model.md (`sim.reforms`). Applied before `set`.")
    set: dict[str, Any] = Field(default_factory=dict, description="Fields to set, by dotted "
                                "path (`hotline.operators: 500`); any field except " +
                                ", ".join(f"`{f}`" for f in (*FROZEN_FIELDS, *FROZEN_PATHS)) + ".")

    @field_validator("reforms")
    @classmethod
    def _known_reforms(cls, names: list[str]) -> list[str]:
        from sim.reforms import check_name

        return [check_name(name) for name in names]


# ------------------------------------------------------------------------------- scenario
class Scenario(Section):
    """One run's full specification."""

    name: str = Field("unnamed", min_length=1, max_length=MAX_NAME,
                      description="Short name used in tables and charts (at most "
                      f"{MAX_NAME} characters and {MAX_NAME_BYTES} bytes; no control, "
                      "bidirectional or look-alike characters).")

    @field_validator("name")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        why = unsafe(name)
        if why is not None:
            raise ValueError(why)
        return name

    description: str = Field("", description="What this scenario represents.")
    regime: Literal["fragmented", "whistle", "hotline", "proactive", "custom"] = Field(
        "custom", description="Label of the regime the mechanisms add up to (for tables only).")
    start_date: Date = Field(dt.date(2019, 1, 1), description="Calendar date of day 0.")
    days: int = Field(365, gt=0, le=MAX_DAYS, description="Days to simulate.")
    warmup_days: int = Field(0, ge=0, le=MAX_DAYS,
                             description="Days simulated before `start_date` and left "
                             "out of the measures (problems occurring then are not counted).")
    scale: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        1.0, description="Share of residents simulated (1.0 = the whole city). Below 1 the run "
        "simulates a sample of streets holding about that share, each at full intensity with "
        "its whole office, and the matching share of departments, district centres and "
        "hotline; counts are reported in real-city units (docs/performance.md, 'Scale').")
    seed: int = Field(0, ge=0, description="Seed of the run's random numbers.")
    based_on: str = Field("", description="The history this scenario was taken from and the "
                          "date (`beijing-2018-2024 as of 2019-01-01`), set when a file names "
                          "`as_of: {history: FILE, date: DATE}`: the history's city as it stood "
                          "on that date (its fitted values, the levels its growth had reached, "
                          "the inputs then in force, none of its reforms), `start_date` that "
                          "date. Empty: not a snapshot.")
    city: CityConfig = Field(default_factory=CityConfig)
    demand: DemandConfig = Field(default_factory=DemandConfig)
    reporting: ReportingConfig = Field(default_factory=ReportingConfig)
    staffing: StaffingConfig = Field(default_factory=StaffingConfig)
    fragmented: FragmentedConfig = Field(default_factory=FragmentedConfig)
    whistle: WhistleConfig = Field(default_factory=WhistleConfig)
    devolution: DevolutionConfig = Field(default_factory=DevolutionConfig)
    patrols: PatrolConfig = Field(default_factory=PatrolConfig)
    hotline: HotlineConfig = Field(default_factory=HotlineConfig)
    satisfaction: SatisfactionConfig = Field(default_factory=SatisfactionConfig)
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    themes: ThemesConfig = Field(default_factory=ThemesConfig)
    street_governance: StreetGovernanceConfig = Field(default_factory=StreetGovernanceConfig)
    inspection: InspectionConfig = Field(default_factory=InspectionConfig)
    plugins: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Mechanisms written in plain Python that act once a "
        "day (docs/extending.md), by name, each with its settings: `grid_cadre: {share: 0.3}` "
        "for one shipped with govsim, `my_rule: {module: my_reforms.my_rule, ...}` for one in "
        "your own importable module. Each plug-in's settings are checked by its own model.")
    timeline: list[Change] = Field(default_factory=list, description="Dated changes applied "
                                   "during the run, in date order (a reform history: the "
                                   "whistle in 2018, the hotline in 2019 ...). Each change "
                                   "builds on the ones before it.")
