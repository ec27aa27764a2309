"""HDF5 safety helpers shared by checkpoints and SONATA files.

Writing: :func:`atomic_h5_write` (temporary file in the same folder, flush, fsync,
``os.replace``; stale temporaries of killed writers of the same target are removed first)
and :func:`write_dataset` (``units`` attribute, Fletcher-32 checksums).

Reading: :func:`check_structure` walks every link of a file without following any and
refuses soft, external and user-defined links, objects reachable under two names, external
or virtual storage and files whose datasets declare more memory than is available;
:class:`Reader` gives validating accessors that turn every failure caused by the file (a
missing object, a wrong dtype or shape, a damaged block, a checksum mismatch) into a
:class:`~snnsim.errors.FileFormatError` naming the object. Only errors raised by h5py are
converted, so a programming error in snnsim surfaces as itself.

h5py is imported inside the functions that need it (``import snnsim`` does not load it).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import numpy.typing as npt

from snnsim.engine import available_memory
from snnsim.errors import FileFormatError, SnnsimError

__all__ = [
    "H5_ERRORS",
    "TEMP_SUFFIX",
    "AtMost",
    "PathLike",
    "Reader",
    "atomic_h5_write",
    "check_structure",
    "remove_stale_temporaries",
    "snnsim_version",
    "temp_name_pattern",
    "wall_clock",
    "write_dataset",
]

PathLike = str | os.PathLike[str]
Array = npt.NDArray[Any]

#: Exceptions h5py raises on damaged or hostile files (a failed filter or checksum, a bad
#: object header, an unsupported type, a truncated block). They are converted to
#: :class:`~snnsim.errors.FileFormatError` only around h5py calls.
H5_ERRORS: tuple[type[Exception], ...] = (OSError, KeyError, RuntimeError, ValueError, TypeError)

#: Suffix of the temporary files written by :func:`atomic_h5_write`.
TEMP_SUFFIX = ".tmp"


def snnsim_version() -> str:
    """Return the installed snnsim version (``0.0.0+unknown`` in an uninstalled tree)."""
    try:
        return version("snnsim")
    except PackageNotFoundError:  # source tree without installation
        return "0.0.0+unknown"


# ====================================================================== atomic writes
def _umask() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_name_pattern(target: str) -> re.Pattern[str]:
    """Return the pattern of temporary files written for ``target`` (a file name).

    A temporary is ``.<name>.<pid>.<8 random characters>.tmp``: hidden, in the target's
    folder, carrying the id of the writing process so that a later save can tell whether
    its writer is still alive.
    """
    base = re.escape(os.path.basename(target))
    return re.compile(rf"\.{base}\.([0-9]{{1,10}})\.[a-z0-9_]{{8}}{re.escape(TEMP_SUFFIX)}\Z")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    except (OverflowError, ValueError):  # not a possible pid
        return False
    return True


def _process_start(pid: int) -> float | None:
    """Wall-clock start time of process ``pid`` (Linux ``/proc``), or None if unknown."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/stat") as f:
            btime = next(int(line.split()[1]) for line in f if line.startswith("btime"))
        return btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def remove_stale_temporaries(target: PathLike) -> list[str]:
    """Remove temporaries left by killed writers of ``target``; return the removed paths.

    Only regular files in the target's folder, owned by this user, whose name matches
    :func:`temp_name_pattern` for this target exactly, are considered. One is stale when
    its writer process is dead, or when that process id now belongs to a process that
    started after the file was last written (the id was reused). Temporaries of this
    process and of live writers are left alone, so concurrent saves are never disturbed.
    """
    path = os.path.abspath(os.fspath(target))
    folder = os.path.dirname(path)
    pattern = temp_name_pattern(path)
    removed: list[str] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    me = os.getpid()
    for entry in entries:
        m = pattern.match(entry.name)
        if m is None:
            continue
        pid = int(m.group(1))
        if pid == me:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            continue
        if _pid_alive(pid):
            started = _process_start(pid)
            if started is None or st.st_mtime >= started:
                continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            removed.append(entry.path)
    return removed


def atomic_h5_write(path: PathLike, writer: Callable[[Any], None]) -> None:
    """Write an HDF5 file atomically: temporary file, flush, fsync, ``os.replace``.

    Stale temporaries of the same target (see :func:`remove_stale_temporaries`) are removed
    first. On any exception (including ``KeyboardInterrupt``) this call's temporary file is
    removed and a previous file at ``path`` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.
    writer : callable
        Called with the open ``h5py.File`` (mode ``"w"``) to fill it.
    """
    import h5py

    target = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(target)
    remove_stale_temporaries(target)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=folder
    )
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            writer(f)
            f.flush()
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(folder)


def write_dataset(group: Any, name: str, data: npt.ArrayLike, units: str) -> Any:
    """Create dataset ``name`` in ``group`` with a ``units`` attribute.

    Arrays (not scalars) are stored chunked with Fletcher-32 checksums, so that a flipped
    bit is detected when the dataset is read.
    """
    arr = np.ascontiguousarray(data)
    if arr.ndim:
        ds = group.create_dataset(name, data=arr, fletcher32=True)
    else:
        ds = group.create_dataset(name, data=arr)
    ds.attrs["units"] = units
    return ds


# ====================================================================== reading
@dataclass(frozen=True)
class AtMost:
    """Shape entry of :meth:`Reader.dataset`: any length up to ``limit``."""

    limit: int


ShapeEntry = int | AtMost | None


def _fmt_shape(shape: tuple[ShapeEntry, ...]) -> str:
    parts = [
        "any" if s is None else f"<= {s.limit}" if isinstance(s, AtMost) else str(s) for s in shape
    ]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


class Reader:
    """Validating accessors on an open HDF5 file; every failure is a FileFormatError.

    Parameters
    ----------
    f : h5py.File
        The open file.
    path : str
        Its path, for messages.
    """

    def __init__(self, f: Any, path: str) -> None:
        self.f = f
        self.path = path

    def fail(self, where: str, problem: str) -> FileFormatError:
        """Return the error for ``problem`` at ``where`` (a path in the file)."""
        return FileFormatError(f"{self.path}: {where}: {problem}")

    @contextlib.contextmanager
    def guard(self, where: str) -> Iterator[None]:
        """Turn exceptions raised by h5py inside the block into FileFormatError.

        Wrap h5py calls only: the block must not contain snnsim logic, whose own
        ``TypeError`` or ``KeyError`` would otherwise be mistaken for a damaged file.
        """
        try:
            yield
        except SnnsimError:
            raise
        except H5_ERRORS as err:
            raise self.fail(
                where,
                f"cannot be read: checksum mismatch or damaged storage ({type(err).__name__}: "
                f"{err}); the file changed after it was written, use an intact copy",
            ) from err

    # ------------------------------------------------------------------ objects
    def get(self, name: str) -> Any:
        """Return the object at absolute path ``name``, or None."""
        with self.guard(name):
            return self.f.get(name)

    def group(self, name: str) -> Any:
        """Return the group at absolute path ``name``."""
        import h5py

        obj = self.get(name)
        if obj is None:
            raise self.fail(name, "missing group")
        if not isinstance(obj, h5py.Group):
            raise self.fail(name, f"expected a group, found {type(obj).__name__}")
        return obj

    def children(self, group: Any) -> list[str]:
        """Names of the members of ``group``."""
        with self.guard(group.name):
            return [str(k) for k in group]

    def numbered(self, group: Any) -> list[Any]:
        """Sub-groups ``0 .. count-1`` of ``group`` (``count`` attribute)."""
        count = self.attr_int(group, "count", 0, 1 << 30)
        return [self.group(f"{group.name}/{i}") for i in range(count)]

    # ------------------------------------------------------------------ attributes
    def attr_names(self, obj: Any) -> list[str]:
        """Names of the attributes of ``obj``."""
        with self.guard(obj.name):
            return [str(k) for k in obj.attrs]

    def has_attr(self, obj: Any, name: str) -> bool:
        """Whether ``obj`` has attribute ``name``."""
        with self.guard(obj.name):
            return name in obj.attrs

    def attr(self, obj: Any, name: str) -> Any:
        """Raw value of attribute ``name`` of ``obj``."""
        where = f"{obj.name} attribute {name!r}"
        with self.guard(where):
            present = name in obj.attrs
            value = obj.attrs[name] if present else None
        if not present:
            raise self.fail(where, "missing")
        return value

    def attr_str(self, obj: Any, name: str, default: str | None = None) -> str:
        """Return a string attribute (``default`` when absent, if one is given)."""
        if default is not None and not self.has_attr(obj, name):
            return default
        value = self.attr(obj, name)
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                raise self.fail(f"{obj.name} attribute {name!r}", "not valid UTF-8") from None
        if not isinstance(value, str):
            raise self.fail(f"{obj.name} attribute {name!r}", f"expected a string, got {value!r}")
        return value

    def attr_int(self, obj: Any, name: str, lo: int | None = None, hi: int | None = None) -> int:
        """Integer attribute in ``[lo, hi]``."""
        value = self.attr(obj, name)
        if isinstance(value, np.ndarray) and value.shape in ((), (1,)):
            value = value.reshape(-1)[0]
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise self.fail(f"{obj.name} attribute {name!r}", f"expected an integer, got {value!r}")
        x = int(value)
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            raise self.fail(
                f"{obj.name} attribute {name!r}", f"{x} is outside the valid range [{lo}, {hi}]"
            )
        return x

    def attr_float(self, obj: Any, name: str) -> float:
        """Finite number attribute."""
        value = self.attr(obj, name)
        if isinstance(value, np.ndarray) and value.shape in ((), (1,)):
            value = value.reshape(-1)[0]
        if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)
        ):
            raise self.fail(f"{obj.name} attribute {name!r}", f"expected a number, got {value!r}")
        x = float(value)
        if not math.isfinite(x):
            raise self.fail(f"{obj.name} attribute {name!r}", f"{x} is not finite")
        return x

    def attr_bool(self, obj: Any, name: str) -> bool:
        """Boolean attribute."""
        value = self.attr(obj, name)
        if not isinstance(value, (bool, np.bool_)):
            raise self.fail(f"{obj.name} attribute {name!r}", f"expected a boolean, got {value!r}")
        return bool(value)

    def attr_str_list(self, obj: Any, name: str) -> list[str]:
        """One-dimensional array-of-strings attribute."""
        arr = np.asarray(self.attr(obj, name))
        if arr.ndim != 1:
            raise self.fail(f"{obj.name} attribute {name!r}", "expected a list of strings")
        out = []
        for item in arr.tolist():
            if isinstance(item, bytes):
                item = item.decode("utf-8", errors="replace")
            if not isinstance(item, str):
                raise self.fail(f"{obj.name} attribute {name!r}", "expected a list of strings")
            out.append(item)
        return out

    def attr_scalars(self, obj: Any) -> dict[str, bool | int | float | str]:
        """Every attribute of ``obj`` as a Python scalar."""
        out: dict[str, bool | int | float | str] = {}
        for key in self.attr_names(obj):
            value = self.attr(obj, key)
            if isinstance(value, bytes):
                value = value.decode("utf-8", errors="replace")
            if isinstance(value, np.generic):
                value = value.item()
            if not isinstance(value, (bool, int, float, str)):
                raise self.fail(f"{obj.name} attribute {key!r}", "expected a scalar")
            out[key] = value
        return out

    # ------------------------------------------------------------------ datasets
    def dataset(
        self,
        group: Any,
        name: str,
        dtype: type[np.generic] | tuple[type[np.generic], ...],
        shape: tuple[ShapeEntry, ...],
    ) -> Any:
        """Check a dataset's presence, storage, dtype and declared shape; read nothing.

        ``dtype`` is the required dtype or a tuple of allowed ones (native byte order).
        A shape entry is an exact length, :class:`AtMost` a bound, or ``None`` (any).
        """
        import h5py

        where = f"{group.name.rstrip('/')}/{name}"
        with self.guard(where):
            obj = group.get(name)
        if obj is None:
            raise self.fail(where, "missing dataset")
        if not isinstance(obj, h5py.Dataset):
            raise self.fail(where, f"expected a dataset, found {type(obj).__name__}")
        with self.guard(where):
            virtual, external = obj.is_virtual, obj.external
            got_dtype, got_shape = obj.dtype, obj.shape
        if virtual:
            raise self.fail(where, "virtual datasets are refused")
        if external:
            raise self.fail(where, "datasets with external storage are refused")
        allowed = dtype if isinstance(dtype, tuple) else (dtype,)
        if not any(got_dtype == np.dtype(t) for t in allowed):
            want = " or ".join(str(np.dtype(t)) for t in allowed)
            raise self.fail(where, f"dtype {got_dtype} (expected {want}, native byte order)")
        if got_shape is None or len(got_shape) != len(shape):
            raise self.fail(where, f"shape {got_shape} (expected {_fmt_shape(shape)})")
        for want_len, got in zip(shape, got_shape, strict=True):
            if (isinstance(want_len, int) and got != want_len) or (
                isinstance(want_len, AtMost) and got > want_len.limit
            ):
                raise self.fail(where, f"shape {got_shape} (expected {_fmt_shape(shape)})")
        return obj

    def read(self, ds: Any) -> Array:
        """Read a dataset checked by :meth:`dataset` (checksums are verified by HDF5)."""
        with self.guard(ds.name):
            arr = ds[()]
        return np.ascontiguousarray(arr)


def check_structure(r: Reader, memory: int | None = None) -> int:
    """Refuse links, shared objects, foreign storage and oversized files; read no data.

    Every link is looked at without being followed: soft links (including cycles such as
    ``/loop -> /loop``), external links and user-defined links are refused, and so is a
    hard link to an object already reached under another name. Every dataset must use
    contiguous or chunked storage inside the file, and the total size the datasets declare
    must fit in ``memory`` bytes (default: the memory available now).

    Parameters
    ----------
    r : Reader
        Reader on the open file.
    memory : int, optional
        Bytes the file's arrays may need.

    Returns
    -------
    int
        Total bytes declared by the file's datasets.
    """
    import h5py

    links: list[tuple[str, Any]] = []
    with r.guard("/"):
        r.f.visititems_links(lambda name, link: links.append((name, link)))
    seen: dict[tuple[int, int], str] = {}
    declared = 0
    for name, link in links:
        where = f"/{name}"
        if isinstance(link, h5py.ExternalLink):
            raise r.fail(where, f"external link to {link.filename}:{link.path} is refused")
        if isinstance(link, h5py.SoftLink):
            raise r.fail(
                where, f"soft link to {link.path!r} is refused (snnsim files hold no links)"
            )
        if not isinstance(link, h5py.HardLink):
            raise r.fail(where, f"link of type {type(link).__name__} is refused")
        with r.guard(where):
            obj = r.f.get(name)
            info = h5py.h5o.get_info(obj.id)
            key, refs = (int(info.fileno), int(info.addr)), int(info.rc)
        if key in seen or refs != 1:
            first = seen.get(key, "another name")
            raise r.fail(where, f"hard link to an object already reached as {first} is refused")
        seen[key] = where
        if isinstance(obj, h5py.Dataset):
            with r.guard(where):
                virtual, external, shape, itemsize = (
                    obj.is_virtual,
                    obj.external,
                    obj.shape,
                    obj.dtype.itemsize,
                )
            if virtual:
                raise r.fail(where, "virtual datasets are refused")
            if external:
                raise r.fail(where, "datasets with external storage are refused")
            declared += math.prod(shape or ()) * itemsize
        elif not isinstance(obj, h5py.Group):
            raise r.fail(where, f"object of type {type(obj).__name__} is refused")
    avail = available_memory() if memory is None else memory
    if declared > avail:
        raise r.fail(
            "/",
            f"the datasets declare {declared / 2**30:.2f} GiB but only {avail / 2**30:.2f} GiB "
            "of memory is available; refusing to read the file (is it damaged, or was it "
            "written on a larger machine?)",
        )
    return declared


def wall_clock() -> str:
    """Return the current UTC time in ISO 8601 (``created`` attributes)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
