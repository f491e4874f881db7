"""Writing results all or nothing: output folders checked before work, staged beside their
target, swapped in so that an earlier result stays until the new one is in place.

    check_out(out, marker)        # before any run: exit 2 naming the path and why
    with staged_folder(out) as tmp:
        ...                       # write into tmp
    # here out holds the new result; on an error, Ctrl-C or kill -9 it still holds the old one

A staging folder is named `.<name>.stage-<pid>-<random>` and an earlier result being replaced
is moved aside to `.<name>.old-<pid>-<random>`, both beside the target. A process killed with
`kill -9` leaves them behind; the next write into the same folder removes those of processes
that are no longer running (and puts an aside result back if its target is missing). So that
the next command of any kind does it too, wherever the killed one wrote, each write in progress
is noted in a small file of its own under `journal_dir()` (`$GOVSIM_STATE_DIR`, else
`$XDG_STATE_HOME/govsim/writing`, else `~/.local/state/govsim/writing`), naming the folder it
writes in; `clean_noted`, run at the start of every `govsim` command, cleans the folders noted
by processes no longer running and removes their notes.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sim.errors import InputError

#: Where a comparison keeps the runs of its other seeds: seeds/<label>/seed<N>/.
SEEDS_DIR = "seeds"


def seed_folder(root: Path, label: str, seed: int, first: int) -> Path:
    """Where a comparison keeps a run: its label's folder for the first seed, else
    seeds/<label>/seed<N>/ (the layout `govsim compare` writes and `govsim brief --from`
    reads)."""
    return root / label if seed == first else root / SEEDS_DIR / label / f"seed{seed}"


#: File systems of the kernel, never a place for results.
VIRTUAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))
STAGE, ASIDE = "stage", "old"
_LEFTOVER = re.compile(r"\.(?P<name>.+)\.(?P<kind>stage|old)-(?P<pid>\d+)-[^.]+$")


# ------------------------------------------------------------------------------------ checks
def _first_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            return candidate
    return Path(path.anchor or ".")


def check_out(out: Path, marker: str | None = None, option: str = "--out",
              what: str = "results") -> None:
    """Refuse an output folder that cannot be written, before any work: under a file, under
    /proc, /sys or /dev, in a folder without write permission, or an existing folder holding
    something else than an earlier result with `marker` (that one is replaced)."""
    where = str(out)
    if not str(out).strip():
        raise InputError(where, option, f"a folder for the {what}", "an empty path")
    target = Path(os.path.abspath(out))
    resolved = target.resolve()
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise InputError(where, option, f"a folder for the {what} other than the current one "
                         f"or one holding it (name a folder: {option} results/NAME)",
                         "the current folder" if resolved == here else "a folder holding it")
    for root in VIRTUAL_ROOTS:
        if resolved == root or root in resolved.parents:
            raise InputError(where, option, f"a folder for the {what} on a real file system",
                             f"a path under {root}")
    if target.exists() or target.is_symlink():
        if not target.is_dir():
            raise InputError(where, option, f"a folder for the {what}", "an existing file")
        if marker is not None and any(target.iterdir()) and not (target / marker).exists():
            raise InputError(where, option, f"a new folder or an earlier govsim result (with "
                             f"{marker}) to replace", "a folder with other files")
        parent = target.parent
    else:
        parent = _first_existing(target.parent)
        if not parent.is_dir():
            raise InputError(where, option, f"a folder for the {what}",
                             f"a path under the file {parent}")
    longest = max((len(os.fsencode(p.name)) for p in [target, *target.parents] if p.name),
                  default=0)
    if longest + 40 > _name_max(parent):  # the staging folder's name adds about 40 bytes
        raise InputError(where, option, f"a folder name of at most {_name_max(parent) - 40} "
                         "bytes per part", f"{longest} bytes")
    try:  # the one sure test of writability (permissions, read-only mounts, quotas); named as
        # a staging folder, so that one a kill left behind is cleaned as they are
        probe = tempfile.mkdtemp(prefix=f".govsim-probe.{STAGE}-{os.getpid()}-", dir=parent)
    except OSError as err:
        raise InputError(where, option, f"a folder where the {what} can be written",
                         f"{parent}: {err.strerror or err}") from None
    os.rmdir(probe)


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


# ----------------------------------------------------------------------------------- staging
def _alive(pid: int) -> bool:
    """The process is running: it exists and, where /proc tells, is not a zombie (a killed
    process not yet reaped keeps its pid, but it will write nothing more)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (not Linux), or it just ended
        return True
    return stat.rsplit(")", 1)[-1].split()[:1] != ["Z"]


def leftovers(folder: Path) -> list[Path]:
    """Staging and aside folders in `folder` left by processes no longer running."""
    if not folder.is_dir():
        return []
    found = []
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            match = _LEFTOVER.match(entry.name)
            if match and not _alive(int(match["pid"])):
                found.append(entry)
    return found


def clean_stale(folder: Path) -> None:
    """Remove what killed processes left in `folder` (beside their targets); an aside result
    whose replacement never arrived is put back first."""
    for entry in leftovers(folder):
        match = _LEFTOVER.match(entry.name)
        assert match is not None
        target = folder / match["name"]
        if match["kind"] == ASIDE and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(entry, target)
                continue
        shutil.rmtree(entry, ignore_errors=True)


def journal_dir() -> Path:
    """Where writes in progress are noted (module docstring)."""
    given = os.environ.get("GOVSIM_STATE_DIR")
    if given:
        return Path(given)
    state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"),
                                                             ".local", "state")
    return Path(state) / "govsim" / "writing"


def _note(folder: Path) -> Path | None:
    """Note that this process writes in `folder`; None if no note can be made (a read-only
    home: the next write into the same folder still cleans it)."""
    try:
        journal = journal_dir()
        journal.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f"{os.getpid()}-", suffix=".path", dir=journal)
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.fsencode(folder.absolute()))
    except OSError:
        return None
    return Path(name)


def clean_noted() -> None:
    """Clean the folders where processes no longer running were writing (their staging and
    aside folders: `clean_stale`), and remove their notes. Never fails: a note that cannot be
    read or a folder that is gone is passed over."""
    try:
        notes = list(journal_dir().iterdir())
    except OSError:
        return
    for note in notes:
        pid = note.name.split("-", 1)[0]
        if not (pid.isdigit() and note.suffix == ".path") or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            folder = Path(os.fsdecode(note.read_bytes()[:4096]))
            if folder.is_absolute():
                clean_stale(folder)
        with contextlib.suppress(OSError):
            note.unlink()


def _beside(target: Path, kind: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.{kind}-{os.getpid()}-",
                                 dir=target.parent))


def umask_mode(folder: Path) -> None:
    """Give a folder made by `tempfile.mkdtemp` (mode 0700) the usual permissions."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)


def replace_dir(tmp: Path, target: Path) -> None:
    """Move the finished `tmp` to `target`. An earlier folder there is moved aside first and
    deleted only once the new one is in place, so a kill at any moment leaves the old result
    or the new one (an aside folder is put back by the next write: `clean_stale`)."""
    if target.exists():
        aside = _beside(target, ASIDE)  # an empty folder, which a rename may replace
        os.replace(target, aside)  # renames within one folder: each atomic
        os.replace(tmp, target)
        shutil.rmtree(aside, ignore_errors=True)
    else:
        os.replace(tmp, target)


def missing_parents(out: Path) -> list[Path]:
    """Ancestors of `out` that do not exist yet (deepest first), to remove again on failure."""
    missing = []
    for parent in out.absolute().parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def remove_empty(dirs: list[Path]) -> None:
    for d in dirs:  # deepest first
        try:
            d.rmdir()
        except OSError:
            break


@contextlib.contextmanager
def staged_folder(out: Path) -> Iterator[Path]:
    """A temporary folder beside `out`, moved into place (replacing an earlier result) only when
    the block finishes; on an error or Ctrl-C it is removed, with any parent folders made for
    it, so a command writes all or nothing."""
    out = Path(out)
    created = missing_parents(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(out.parent)
    note = _note(out.parent)  # before the staging folder: a kill in between leaves nothing
    tmp = _beside(out, STAGE)
    try:
        yield tmp
        umask_mode(tmp)
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_empty(created)
        raise
    finally:
        if note is not None:
            with contextlib.suppress(OSError):
                note.unlink()
