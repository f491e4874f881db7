"""Engine validation against queueing theory: textbook cases built as ordinary scenarios.

`theory` holds the formulas, `cases` the scenarios and their replication estimates, `cli` the
`govsim validate-engine` command. See docs/validation.md.
"""

from typing import TYPE_CHECKING

from sim._lazy import lazy

if TYPE_CHECKING:
    from sim.validation.cases import Case, Row, all_cases, run_all, run_case
    from sim.validation.sizes import FULL, QUICK, Size

__all__ = ["FULL", "QUICK", "Case", "Row", "Size", "all_cases", "run_all", "run_case"]
__getattr__, __dir__ = lazy(__name__, {
    **dict.fromkeys(("FULL", "QUICK", "Size"), "sim.validation.sizes"),
    **dict.fromkeys(("Case", "Row", "all_cases", "run_all", "run_case"), "sim.validation.cases")})
