"""The only place where JIT flags and the location of compiled kernels are set.

``fastmath`` stays off so results are reproducible and NaN behaves; ``cache=True`` makes
a warm start fast; ``nogil=True`` lets other Python threads run while a kernel runs.

Compiled kernels are cached in a per-user folder, never inside the installed package (a
package folder that holds files pip did not install survives ``pip uninstall`` as an empty
namespace package that shadows a later editable install). The folder is, in order:

1. ``NUMBA_CACHE_DIR`` if the user set it (Numba's own setting, respected as is);
2. ``SNNSIM_CACHE_DIR``;
3. ``$XDG_CACHE_HOME/snnsim/numba``, ``~/.cache/snnsim/numba`` by default
   (``%LOCALAPPDATA%/snnsim/numba`` on Windows).

Numba reads ``numba.config.CACHE_DIR`` when a ``cache=True`` function is decorated, so it
is set here, at import, before any kernel module decorates its kernels (every kernel
module imports this one first). Functions of other libraries decorated later in the same
process are cached there too, each in its own sub-folder. If the folder cannot be created
or written (read-only home, sandbox), the on-disk cache is switched off instead of falling
back to the package folder: kernels are then compiled in memory by every new process.
Set ``SNNSIM_NO_CACHE=1`` to switch the on-disk cache off on purpose.

Kernels are cached in a sub-folder named after a fingerprint of every kernel module's
source (:func:`kernels_fingerprint`). Numba checks a cached function against its own
source file only, so a kernel whose callee in another module changed (a new snnsim
version, an edited checkout) would otherwise load stale machine code; with the fingerprint
any change to ``kernels/`` starts a fresh sub-folder.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import numba


def default_cache_dir() -> str:
    """Return the per-user folder for compiled kernels when no variable overrides it.

    Returns
    -------
    str
        ``$XDG_CACHE_HOME/snnsim/numba`` (``~/.cache/snnsim/numba`` when unset), or
        ``%LOCALAPPDATA%/snnsim/numba`` on Windows.
    """
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = os.environ["LOCALAPPDATA"]
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "snnsim", "numba")


def kernels_fingerprint() -> str:
    """Return 16 hex digits of a hash of every kernel module's source (this package)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _writable(path: str) -> str:
    """Create ``path`` and write a probe file in it; return ``""`` or why it failed."""
    try:
        os.makedirs(path, exist_ok=True)
        # the same test Numba makes before it uses a folder
        tempfile.TemporaryFile(dir=path).close()
    except OSError as err:
        return f"{type(err).__name__}: {err.strerror or err}"
    return ""


def _choose_cache() -> tuple[bool, str, str]:
    """Pick the cache folder; return ``(enabled, folder, where it came from or why off)``."""
    if os.environ.get("SNNSIM_NO_CACHE", "").lower() in ("1", "true", "yes"):
        return False, "", "off (SNNSIM_NO_CACHE is set)"
    nb: Any = numba  # numba's configuration attributes are not typed
    user_numba = str(nb.config.CACHE_DIR or "")
    if user_numba:
        folder, source = os.path.abspath(os.path.expanduser(user_numba)), "NUMBA_CACHE_DIR"
    elif os.environ.get("SNNSIM_CACHE_DIR"):
        folder = os.path.abspath(os.path.expanduser(os.environ["SNNSIM_CACHE_DIR"]))
        source = "SNNSIM_CACHE_DIR"
    else:
        folder, source = default_cache_dir(), "default"
    folder = os.path.join(folder, f"kernels-{kernels_fingerprint()}")
    why = _writable(folder)
    if why:
        var = "NUMBA_CACHE_DIR" if source == "NUMBA_CACHE_DIR" else "SNNSIM_CACHE_DIR"
        return (
            False,
            folder,
            (
                f"off: {source} folder {folder} is not writable ({why}); every process compiles "
                f"the kernels again (set {var} to a writable folder to cache them)"
            ),
        )
    nb.config.CACHE_DIR = folder
    return True, folder, source


#: Whether compiled kernels are cached on disk; folder; where the folder came from (or why
#: the cache is off). Decided once, at import.
CACHE, CACHE_DIR, CACHE_SOURCE = _choose_cache()

#: Options for serial kernels.
JIT: dict[str, Any] = {"cache": CACHE, "nogil": True, "fastmath": False, "error_model": "numpy"}

#: Options for the thin wrappers between the run loop and the model kernels (dispatch by
#: model kind, slicing a population's state): inlined where they are called, so a call
#: costs nothing per step (a call that passes the named structures by value measurably
#: slowed the per-step loop).
JIT_INLINE: dict[str, Any] = {**JIT, "inline": "always"}
#: For the run loop's per-step and per-chunk functions, which only read, write and slice
#: arrays their caller owns: compiled without reference counting (Numba's ``_nrt=False``).
#: With it, every field of a structure read into a local and every slice cost two atomic
#: operations per call; such a function cannot allocate (a compile error, not a bug).
JIT_BORROW: dict[str, Any] = {**JIT, "_nrt": False}

#: Options for kernels with a ``prange`` loop over thread partitions.
JIT_PARALLEL: dict[str, Any] = {**JIT, "parallel": True}


def start_threads() -> None:
    """Start Numba's thread pool, choosing a layer that cannot clash with NEST's OpenMP.

    Call before the first parallel kernel runs. PyNEST imports with ``RTLD_GLOBAL`` and ships
    its own libgomp: if NEST was imported before Numba's ``omp`` layer is loaded, that layer
    binds to NEST's libgomp and NEST segfaults in its next ``ResetKernel``. In that case (and
    unless ``NUMBA_THREADING_LAYER`` was set) the ``workqueue`` layer is used instead; results
    do not depend on the layer.
    """
    from numba.np.ufunc import parallel

    if parallel._is_initialized:
        return
    if "nest" in sys.modules and numba.config.THREADING_LAYER == "default":  # type: ignore[attr-defined]
        numba.config.THREADING_LAYER = "workqueue"  # type: ignore[attr-defined]
    parallel._launch_threads()
