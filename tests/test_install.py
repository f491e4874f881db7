"""The wheel works outside this repository: built from a copy of the source tree, installed into
a fresh virtual environment, run from a folder of its own.

The new environment borrows this one's third-party packages through a `.pth` file (their folder
is put on its path; the `.pth` files in that folder, among them the editable install of this
checkout, are not read), so nothing is downloaded but the build backend, and `sim` can only
come from the wheel. The test checks that it does.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", ".venv", "results", "build", "dist", "*.egg-info",
                              "__pycache__", ".pytest_cache", ".ruff_cache", "notebooks")

pytestmark = pytest.mark.slow  # a build, an install and a first compile: about a minute


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None,
         timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, f"{argv}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(the new environment's bin folder, the environment variables to run it with)."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    shutil.copytree(REPO, source, ignore=SKIP, symlinks=True)
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", root / "dist",
         source, cwd=root)
    (wheel,) = (root / "dist").glob("govsim-*.whl")

    venv = root / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=root)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                        cwd=root).stdout.strip())
    borrowed = [*site.getsitepackages(), sysconfig.get_path("purelib")]
    (purelib / "_borrowed_packages.pth").write_text(
        "\n".join(dict.fromkeys(borrowed)) + "\n", encoding="utf-8")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet",
         wheel, cwd=root)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["GOVSIM_CACHE_DIR"] = str(root / "kernel-cache")  # a new user's machine
    env["PATH"] = str(bindir) + os.pathsep + env.get("PATH", "")
    where = _run(python, "-c", "import sim, sim.presets; print(sim.__file__); "
                 "print(sim.presets.presets_dir())", cwd=root, env=env).stdout.split()
    assert all(Path(p).is_relative_to(purelib) for p in where), where  # the wheel's, not ours
    return bindir, env


def test_wheel_runs_a_preset_and_compares_outside_the_repository(installed, tmp_path: Path):
    bindir, env = installed
    govsim = bindir / "govsim"
    work = tmp_path / "elsewhere"
    work.mkdir()
    _run(govsim, "run", "hotline", "--days", "3", "--scale", "0.05", "--set", "warmup_days=0",
         cwd=work, env=env)
    summary = pd.read_parquet(work / "results" / "hotline-seed0" / "summary.parquet")
    assert summary["scenario"].tolist() == ["hotline"]
    _run(govsim, "compare", "--days", "3", "--scale", "0.05", "--seeds", "1", "--set",
         "warmup_days=0", cwd=work, env=env)
    table = pd.read_csv(work / "results" / "compare-seed0" / "comparison.csv",
                        index_col="measure")
    assert list(table.columns) == ["fragmented", "whistle", "hotline", "proactive"]
    for regime in table.columns:
        assert (work / "results" / "compare-seed0" / regime / "summary.parquet").is_file()
    listed = _run(govsim, "presets", cwd=work, env=env).stdout
    assert "example  sensitivity" in listed and str(REPO) not in listed
    _run(govsim, "sweep", "example", "--dry-run", cwd=work, env=env)
    _run(govsim, "check", "beijing-2018-2024", cwd=work, env=env)
    _run(bindir / "python", "-c", "from sim.app import Page, page", cwd=work, env=env)
    fonts = _run(bindir / "python", "-c", "from sim.charts import style; "
                 "print(style.register_fonts()); print(style.cjk_font_path('bold'))",
                 cwd=work, env=env).stdout.splitlines()
    assert fonts[0] == style_family() and Path(fonts[1]).is_file()
    assert not Path(fonts[1]).is_relative_to(REPO)


def style_family() -> str:
    from sim.charts import style

    return style.CJK_FAMILY
