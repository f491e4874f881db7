"""Runs bad-input cases through `sim.cli.main` in this process, one fresh folder each.

    python -m tests.corpus_driver CASES.json RESULTS.json

tests/test_bad_input.py starts it in a child process under a memory limit and writes CASES.json:
a list of {"id", "argv", "files": {name: text, or {"bytes": latin-1 text}, ...}} (see
`write_files`). Each case runs
in a folder of its own (the working directory while it runs), under a per-case time limit
(SIGALRM). RESULTS.json gets, per id, the exit status, stderr, stdout, the files found after
the run beyond those written for it, the seconds taken and any exception that escaped.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

#: Seconds one case may take before it is stopped (validation should take well under one).
CASE_SECONDS = 20


class CaseTimeout(BaseException):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise CaseTimeout


def write_files(folder: Path, files: dict[str, object]) -> set[str]:
    """Write a case's files in order: text, `{"bytes": latin-1 text}`, a copy of a folder
    (`{"copy": path}`), an empty folder (`{"folder": True}`) or nothing (`{"delete": True}`,
    to take a file out of a copied folder)."""
    import shutil

    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, dict) and "copy" in content:
            shutil.copytree(content["copy"], path, dirs_exist_ok=True)
        elif isinstance(content, dict) and "folder" in content:
            path.unlink(missing_ok=True)
            path.mkdir(exist_ok=True)
        elif isinstance(content, dict) and "delete" in content:
            path.unlink()
        elif isinstance(content, dict):
            path.write_bytes(content["bytes"].encode("latin-1"))
        else:
            path.write_text(str(content), encoding="utf-8")
    return listing(folder)


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def run_case(case: dict, base: Path) -> dict:
    from sim import cli

    folder = base / case["id"]
    folder.mkdir(parents=True)
    before = write_files(folder, case.get("files", {}))
    out, err = io.StringIO(), io.StringIO()
    escaped = None
    status = None
    started = time.perf_counter()
    cwd = os.getcwd()
    os.chdir(folder)
    signal.alarm(CASE_SECONDS)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(case["argv"])
    except CaseTimeout:
        escaped = f"timeout after {CASE_SECONDS} s"
    except BaseException:  # noqa: BLE001 - what the corpus looks for: any escaping exception
        escaped = traceback.format_exc()
    finally:
        signal.alarm(0)
        os.chdir(cwd)
    return {"status": status, "stderr": err.getvalue(), "stdout": out.getvalue(),
            "new_files": sorted(listing(folder) - before), "escaped": escaped,
            "seconds": time.perf_counter() - started, "vm_mb": _vm_mb()}


def _vm_mb() -> float | None:
    """The process's address space now, MB (what the batch's memory limit counts)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def main(argv: list[str]) -> int:
    cases = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    base = Path(argv[1]).parent / "cases"
    signal.signal(signal.SIGALRM, _alarm)
    results = {case["id"]: run_case(case, base) for case in cases}
    Path(argv[1]).write_text(json.dumps(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
