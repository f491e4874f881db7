"""The interactive city: a Solara page (with Mesa's controls) over a running `GovernanceModel`.

    solara run app.py                          # from the repository root, in a browser
    solara run sim.app                         # the same from anywhere (an installed wheel)
    from sim.app import page; page             # as the last expression of a Jupyter cell
    from sim.app import explore; explore("whistle", city="synthetic", surge=True)
"""

from sim.app.model import CityModel, View, app_scenario
from sim.app.viz import Page, explore, page

__all__ = ["CityModel", "Page", "View", "app_scenario", "explore", "page"]
