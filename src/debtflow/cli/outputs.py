"""Where a command writes its result, checked before the work starts, so that a long run
never ends in a traceback because ``--out`` names a folder or a folder that is not there."""

from __future__ import annotations

import os
from pathlib import Path


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def file_problem(target: Path, *, creates_folders: bool = False) -> str | None:
    """Why the file ``target`` cannot be written, or None. With ``creates_folders`` the
    command makes the missing folders above it, so only the nearest existing one counts."""
    if target.is_dir():
        return "it is a folder"
    folder = target.parent
    if creates_folders:
        folder = _nearest_existing(folder)
        if not folder.is_dir():
            return f"{folder} is not a folder"
    elif not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        return "it is not writable"
    return None


def folder_problem(target: Path) -> str | None:
    """Why files cannot be written into the folder ``target`` (made when missing), or None."""
    if target.exists() and not target.is_dir():
        return "it is a file, not a folder"
    existing = _nearest_existing(target)
    if not existing.is_dir():
        return f"{existing} is not a folder"
    if not os.access(existing, os.W_OK):
        return "it is not writable"
    return None
