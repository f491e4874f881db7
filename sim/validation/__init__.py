"""Engine validation against queueing theory: textbook cases built as ordinary scenarios.

`theory` holds the formulas, `cases` the scenarios and their replication estimates, `cli` the
`govsim validate-engine` command. See docs/validation.md.
"""

from sim.validation.cases import FULL, QUICK, Case, Row, Size, all_cases, run_all, run_case

__all__ = ["FULL", "QUICK", "Case", "Row", "Size", "all_cases", "run_all", "run_case"]
