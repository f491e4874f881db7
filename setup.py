"""Build hook: the wheel carries the shipped scenarios (`scenarios/`) inside the package.

Everything else is declared in pyproject.toml. The scenarios' home stays the top-level
`scenarios/` folder; `build_py` copies them into `sim/presets/` of the build, where an
installed govsim reads them through importlib.resources (see sim/presets/__init__.py).
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


class BuildWithScenarios(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads scenarios/ where it is
            return
        target = Path(self.build_lib) / "sim" / "presets"
        for source in sorted(SCENARIOS.rglob("*.yaml")):
            dest = target / source.relative_to(SCENARIOS)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, dest)


setup(cmdclass={"build_py": BuildWithScenarios})
