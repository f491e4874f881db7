"""Policy briefings: a folder with every chart (PNG, SVG), an HTML report and a PDF.

    import sim
    from sim.briefing import brief
    runs = [sim.run(p, days=90, scale=0.05) for p in sim.PRESETS]
    brief(runs, "results/my-brief", lang="zh")

`govsim brief` (sim/briefing/cli.py) runs or loads the comparison and calls the same code.
"""

from typing import TYPE_CHECKING

from sim._lazy import lazy

if TYPE_CHECKING:
    from sim.briefing.report import brief, key_figures, make_charts, write_brief

__all__ = ["brief", "key_figures", "make_charts", "write_brief"]
__getattr__, __dir__ = lazy(__name__, dict.fromkeys(__all__, "sim.briefing.report"))
