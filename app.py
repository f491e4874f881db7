"""govsim's interactive city, in Mesa's `app.py` convention.

    solara run app.py                  # from the repository root: a browser page
    solara run sim.app                 # the same from anywhere (an installed wheel)
    from sim.app import page; page     # as the last expression of a Jupyter cell

The page itself lives in `sim/app/` (see docs/app.md).
"""

from sim.app import Page, page

__all__ = ["Page", "page"]

page  # noqa: B018
