"""Output paths: check where a file will be written before any work is done.

``snn.save`` and ``snnsim plot -o`` write through a temporary file or a plotting backend;
when the destination cannot work (no such folder, a directory, not a path at all) the
error must name the path the user gave, not a temporary file, and come before anything
is computed or written.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Collection

from snnsim.errors import ParameterError

__all__ = ["check_output_file"]


def check_output_file(path: object, what: str, suffixes: Collection[str] = ()) -> str:
    """Return ``path`` as a string after checking that a file can be written there.

    Parameters
    ----------
    path : object
        What the user passed as the destination.
    what : str
        The call, for messages (e.g. ``"save"``).
    suffixes : collection of str
        Allowed extensions without the dot (lower case); empty: any.

    Raises
    ------
    ParameterError
        If ``path`` is not a str or os.PathLike, is empty, or has an extension not in
        ``suffixes``.
    IsADirectoryError
        If ``path`` is an existing directory.
    FileNotFoundError, NotADirectoryError
        If its folder does not exist or is not a folder (it is not created).
    PermissionError
        If the folder is not writable.
    """
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise ParameterError(
            f"{what}(path={path!r}): path must be a file name (str or pathlib.Path), got "
            f"{type(path).__name__}; e.g. 'network.h5'"
        )
    text = os.fspath(path)
    if not isinstance(text, str) or not text:
        raise ParameterError(f"{what}(path={path!r}): path must be a non-empty file name")
    if suffixes:
        ext = os.path.splitext(text)[1].lower().lstrip(".")
        if ext not in suffixes:
            raise ParameterError(
                f"{what}: {text!r} has the extension {('.' + ext) if ext else '(none)'}; "
                f"use one of {', '.join('.' + s for s in sorted(suffixes))}"
            )
    if os.path.isdir(text):
        raise IsADirectoryError(
            errno.EISDIR, f"{what}: {text!r} is a directory; give a file name inside it", text
        )
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.exists(folder):
        raise FileNotFoundError(
            errno.ENOENT, f"{what}: the folder {folder!r} does not exist; create it first", text
        )
    if not os.path.isdir(folder):
        raise NotADirectoryError(errno.ENOTDIR, f"{what}: {folder!r} is not a folder", text)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            errno.EACCES, f"{what}: the folder {folder!r} is not writable; choose another", text
        )
    return text
