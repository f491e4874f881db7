"""`@kernel`: how govsim compiles its hot path (numba, no build step on a user's machine).

Each kernel is `numba.njit(cache=True)`: compiled on first use, then loaded from disk in every
later process. Numba checks only a function's own source file before reusing its cache, not the
files of the kernels it calls (numba issue #1833), so an edit to `sim/engine/desks.py` would
leave `sim/flow.py`'s cached day loop running the old desk code. Every kernel's cache therefore
lives in a folder named after a hash of all kernel sources (`KERNEL_SOURCES`) and numba's
version: any change to any of them starts a fresh folder, so a stale kernel is never run.

The folder is `$GOVSIM_CACHE_DIR`, else `$NUMBA_CACHE_DIR/govsim`, else the user's cache
folder (`~/.cache/govsim` on Linux); see docs/performance.md.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numba
from numba.core import cgutils, imputils, types
from numba.core import config as numba_config
from numba.core.datamodel import models
from numba.core.extending import (
    infer_getattr,
    intrinsic,
    lower_getattr_generic,
    register_model,
)
from numba.core.typing.templates import AttributeTemplate
from numba.experimental import structref

_PACKAGE = Path(__file__).resolve().parents[1]
#: Source folders and files holding kernels, relative to the package (a test checks that every
#: module using `@kernel` is covered).
KERNEL_SOURCES = ("engine", "mechanisms", "cases.py", "units.py", "flow.py")
#: Cache folders of older kernel sources kept besides the current one.
_KEEP = 3


def kernel_files() -> list[Path]:
    files: list[Path] = []
    for name in KERNEL_SOURCES:
        path = _PACKAGE / name
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """A hash of every kernel source file and of numba's version."""
    digest = hashlib.sha256(numba.__version__.encode())
    for path in kernel_files():
        digest.update(str(path.relative_to(_PACKAGE)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    if os.environ.get("GOVSIM_CACHE_DIR"):
        return Path(os.environ["GOVSIM_CACHE_DIR"])
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]) / "govsim"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "govsim"


@lru_cache(maxsize=1)
def cache_dir() -> Path | None:
    """This code's kernel cache folder, created; older ones beyond the last few are removed.
    None where no folder can be written (numba then falls back to its own places)."""
    folder = cache_root() / f"kernels-{fingerprint()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.utime(folder)
    except OSError:
        return None
    try:
        older = sorted((p for p in folder.parent.glob("kernels-*") if p != folder),
                       key=lambda p: p.stat().st_mtime, reverse=True)
        for stale in older[_KEEP:]:
            shutil.rmtree(stale, ignore_errors=True)
    except OSError:
        pass
    return folder


#: At most about how long the first run after an install (or an update) compiles the kernels,
#: on the machines of docs/performance.md (2 cores; 12-30 s measured): said before it starts,
#: not left to a progress bar's estimate.
FIRST_COMPILE_S = 30


def compiled_before() -> bool:
    """Whether this code's kernels are in the disk cache already (else the next run compiles
    them first, about `FIRST_COMPILE_S`)."""
    folder = cache_dir()
    return folder is None or any(folder.rglob("*.nbi"))


def kernel[F: Callable[..., Any]](fn: F) -> F:
    """Compile `fn` with numba: nopython, cached in this code's folder (see the module), and
    numpy's error model (a division by zero gives inf or NaN, as numpy does, not an exception)."""
    folder = cache_dir()
    before = numba_config.CACHE_DIR
    if folder is not None:
        numba_config.CACHE_DIR = str(folder)
    try:  # numba fixes a function's cache folder when it is decorated
        return numba.njit(cache=True, nogil=True, error_model="numpy")(fn)
    finally:
        numba_config.CACHE_DIR = before


class ByReference(types.StructRef):
    """Base of the structs kernels pass by reference (numba structref): a struct of arrays
    handed to a kernel is one pointer, however many arrays it holds, which keeps both the
    compile and the call cheap. Each is the twin of a Python record of the same arrays (a
    NamedTuple, or the case table's dataclass, which grows in place)."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


def holding(proxy: structref.StructRefProxy, owner: object) -> structref.StructRefProxy:
    """`proxy`, keeping `owner` (the Python record whose arrays it borrows) alive with it."""
    proxy.owner = owner
    return proxy


def passed_by_reference(name: str, fields: tuple[str, ...], module: str,
                        doc: str) -> Callable[[tuple], structref.StructRefProxy]:
    """The struct by which kernels take a record with `fields` (a NamedTuple's, say), and the
    function that makes one over a record's values (in field order), holding them.

    Its numba type `_<name>Struct` and its Python proxy `<name>Ref` are put in `module` under
    those names: numba's disk cache refers to them by module and name, so a kernel taking the
    struct loads from the cache in a new process instead of compiling again (a test checks)."""
    namespace = sys.modules[module].__dict__
    struct_type = structref.register(type(f"_{name}Struct", (ByReference,),
                                          {"__module__": module}))
    proxy = type(f"{name}Ref", (structref.StructRefProxy,), {"__module__": module,
                                                              "__doc__": doc})
    structref.define_proxy(proxy, struct_type, list(fields))
    namespace[struct_type.__name__] = struct_type
    namespace[proxy.__name__] = proxy

    def new(*values):
        return proxy(*borrowed(values))

    new.__name__ = new.__qualname__ = f"new_{name}"  # one cache entry per struct
    make = kernel(new)

    def ref(values: tuple) -> structref.StructRefProxy:
        return holding(make(*values), values)

    ref.__doc__ = f"`values` (of {', '.join(fields[:3])} ...) as the {proxy.__name__} kernels take."
    return ref


# Reference counts. Numba counts every reference to an array or a struct it manages: each
# field read, each struct handed to a kernel, is an atomic update in and out, which cost about
# a quarter of the compiled day. The structs here hold their arrays *borrowed* (without their
# owner, so reading one counts nothing: the Python record they are made from owns them, and
# `holding` ties it to the struct's proxy), and the day's kernels take a struct as a `View`: a
# plain pointer to its fields, passed and read without any count. A struct is viewed where
# Python hands it over (`view`), and the world holds views of its parts.
class View(types.Type):
    """A `ByReference` struct seen through a plain pointer to its fields: read like the
    struct, never counted; valid while the struct lives."""

    def __init__(self, struct: ByReference):
        self.struct = struct
        super().__init__(name=f"View({struct.name})")


@register_model(View)
class _ViewModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        payload = dmm.lookup(fe_type.struct.get_data_type()).get_value_type()
        super().__init__(dmm, fe_type, payload.as_pointer())


@infer_getattr
class _ViewAttribute(AttributeTemplate):
    key = View

    def generic_resolve(self, typ, attr):
        return typ.struct.field_dict.get(attr)


@lower_getattr_generic(View)
def _view_getattr(context, builder, typ, value, attr):
    fields = cgutils.create_struct_proxy(typ.struct.get_data_type())(context, builder,
                                                                     ref=value)
    return imputils.impl_ret_borrowed(context, builder, typ.struct.field_dict[attr],
                                      getattr(fields, attr))


def _data_pointer(context, builder, typ, value):
    struct = cgutils.create_struct_proxy(typ)(context, builder, value=value)
    data = context.nrt.meminfo_data(builder, struct.meminfo)
    payload = context.data_model_manager[typ.get_data_type()].get_value_type()
    return builder.bitcast(data, payload.as_pointer())


@intrinsic
def view(typingctx, struct):
    """The struct as a `View` (a view stays itself)."""
    if isinstance(struct, View):
        return struct(struct), lambda context, builder, sig, args: args[0]
    if not isinstance(struct, ByReference):
        return None

    def codegen(context, builder, sig, args):
        return _data_pointer(context, builder, struct, args[0])

    return View(struct)(struct), codegen


def _borrowed_type(typ):
    return View(typ) if isinstance(typ, ByReference) else typ


@intrinsic
def borrowed(typingctx, values):
    """`values` (a tuple) as a struct made of them holds them: each array without its owner
    and each struct as a `View`, so that reading them counts nothing (see above)."""
    if not isinstance(values, types.BaseTuple):
        return None
    out_type = types.Tuple([_borrowed_type(t) for t in values.types])

    def codegen(context, builder, sig, args):
        out = []
        for i, typ in enumerate(values.types):
            value = builder.extract_value(args[0], i)
            if isinstance(typ, types.Array):
                array = context.make_array(typ)(context, builder, value=value)
                array.meminfo = cgutils.get_null_value(array.meminfo.type)
                array.parent = cgutils.get_null_value(array.parent.type)
                value = array._getvalue()
            elif isinstance(typ, ByReference):
                value = _data_pointer(context, builder, typ, value)
            else:
                context.nrt.incref(builder, typ, value)
            out.append(value)
        return context.make_tuple(builder, out_type, out)

    return out_type(values), codegen
