"""Compiled kernels: the one place where numba is configured.

Each submodel keeps its state in numpy arrays (sim.state) and its rules in small pure functions.
A week of a submodel is one *kernel*: a loop over the running alliances, compiled to machine code
by numba, that calls those pure functions on one alliance (or one partner slot) at a time. One
call per submodel per week, instead of dozens of numpy calls, is what keeps the per-week cost of a
run small whether 20 or 20,000 alliances are running (see benchmarks/README.md).

* `kernel`: compile a submodel's weekly loop. Compiled code is cached on disk (numba's
  `cache=True`), so only the first run on a machine pays for compiling (about 20 seconds); numba's
  own error model is switched to numpy's (a division by zero gives inf or nan, as in numpy,
  instead of raising).
  A kernel takes many arguments, often arrays of one type, so two swapped at a call site would
  compile and run silently wrong. Python therefore calls a kernel with keyword arguments only, and
  a parameter is named after the state column or setting it receives where there is one
  (`trust_ceiling=al.trust_ceiling`, `review_interval_weeks=gov.review_interval_weeks`), so that
  a wrong pairing shows; arguments shared by several kernels come as a dict keyed by parameter
  name (`**_seating(world)` in submodel turnover), never as a `*` tuple. A misspelt or missing
  name raises TypeError at the call. The cost is under a microsecond a call (0.7 us measured
  with 34 arguments).
  tests/test_kernel_calls.py walks the source and fails on any Python-side kernel call with a
  positional argument or a `*` splat. Inside compiled code calls may stay positional; helpers of
  more than eight parameters are called by keyword too (numba binds the names when it compiles,
  so this costs nothing at run time).
* `formula`: mark a small pure function (a rule of a submodel) as usable from both sides: Python
  calls it with arrays or scalars as before (tests, figures, the API), and kernels compile it in
  with scalars. Its body must therefore be written with operations that both numpy and numba
  understand (`np.minimum`/`np.maximum` rather than `np.clip`, `np.power` rather than `**` with a
  computed exponent, `pick` rather than `np.where`).
* `kernel_helper`: mark a helper that only kernels call, such as one that updates one alliance's
  row of the state in place; it is compiled into the kernels that call it and is not for Python.
* `constants(section)`: a scenario section (pydantic) as a one-row numpy record array of its
  numeric fields, the form in which kernels take coefficients and settings. A kernel reads the
  row (`c = c[0]`) and then `c.x`, exactly as Python code reads `coef.x` on the pydantic section,
  so a formula's `coef.x` works on both. (A record array rather than a NamedTuple: numba types
  an array argument in C, ten times faster than a tuple, and its dtype is the same in every
  process, so the on-disk cache is found again.)

Transcendental functions in compiled code (exp, log, log1p, pow) are the C library's, not numpy's
own SIMD versions, which differ in the last bit from one processor to another; numba's use of
Intel's SVML is switched off for the same reason. So a seed gives the same bytes on machines with
the same library versions whatever vector instructions they have.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin

import numba
import numpy as np
from numba.extending import overload, register_jitable

__all__ = ["kernel", "formula", "kernel_helper", "pick", "constants", "cache_dir"]


def cache_dir() -> Path:
    """Where compiled kernels are cached: one folder per version of the model's source.

    numba checks only the defining file of a cached function, so a kernel that inlines a formula
    from another module would survive a change to that formula. Keying the folder by a digest of
    every source file of `sim` makes any change recompile everything instead. The base folder is
    $ALLIANCE_SIM_CACHE, else $NUMBA_CACHE_DIR, else $XDG_CACHE_HOME/alliance-sim, else
    ~/.cache/alliance-sim; the digest folder always goes inside it. A folder left by an older
    version of the source is not used again and can be deleted.
    """
    digest = hashlib.sha256(numba.__version__.encode())
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    base = (
        os.environ.get("ALLIANCE_SIM_CACHE")
        or os.environ.get("NUMBA_CACHE_DIR")
        or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "alliance-sim")
    )
    return Path(base) / f"kernels-{digest.hexdigest()[:16]}"


numba.config.CACHE_DIR = str(cache_dir())
numba.config.DISABLE_INTEL_SVML = True


def kernel(fn):
    """Compile a submodel's weekly loop (nopython mode, cached on disk, numpy's error model)."""
    return numba.njit(cache=True, error_model="numpy")(fn)


def formula(fn):
    """A pure rule callable from Python (arrays or scalars) and compiled into kernels (scalars)."""
    return register_jitable(error_model="numpy")(fn)


def kernel_helper(fn):
    """A helper compiled into the kernels that call it (often updating one row in place); not for Python."""
    return register_jitable(error_model="numpy")(fn)


def pick(cond, a, b):
    """`np.where(cond, a, b)` from Python (a numpy scalar for scalar inputs); in kernels `a if cond else b`.

    Lets a `formula` that chooses between two values run on arrays and in kernels alike.
    """
    out = np.where(cond, a, b)
    return out[()] if out.ndim == 0 else out


@overload(pick)
def _pick_in_kernels(cond, a, b):
    def impl(cond, a, b):
        return a if cond else b

    return impl


_DTYPES: dict[type, np.dtype] = {}
_KINDS = {float: np.float64, int: np.int64, bool: np.bool_}


def _numeric_kind(annotation) -> type | None:
    """float, int or bool for numeric annotations (Annotated/aliases unwrapped), else None."""
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation if annotation in (float, int, bool) else None


def constants(section: Any) -> np.ndarray:
    """The numeric fields (float, int, bool) of a pydantic section as a one-row record array.

    Fields of other types (strings, nested sections) are left out: kernels get those as their
    own arguments. The dtype is made once per section class, so numba compiles each kernel once
    whatever the values.
    """
    cls = type(section)
    dtype = _DTYPES.get(cls)
    if dtype is None:
        kinds = {name: _numeric_kind(f.annotation) for name, f in cls.model_fields.items()}
        dtype = _DTYPES[cls] = np.dtype([(name, _KINDS[k]) for name, k in kinds.items() if k is not None])
    return np.array([tuple(getattr(section, name) for name in dtype.names)], dtype=dtype)

