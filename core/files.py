"""File helpers every layer may use."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks (files can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


TMP_SUFFIX = ".tmp"


def remove_path(path: Path) -> None:
    """Remove a file, a symlink or a folder with its contents; nothing if it is absent."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path)


def publish_version(
    link: Path, versions: Path, name: str, write: Callable[[Path], T]
) -> tuple[Path, T]:
    """Publish a folder so that a reader sees the whole old one or the whole new one, never a mix.

    `write(folder)` fills a new temp folder; it is renamed to `versions/<name>`, then `link` is
    pointed at it by `os.replace` of a new relative symlink (an empty real folder at `link` is
    removed first; callers refuse a non-empty one before writing). The previous version stays
    until the next publication, so a reader inside it can finish; older ones and temp folders
    left by a killed run go. Returns (the version folder, what `write` returned)."""
    versions.mkdir(parents=True, exist_ok=True)
    for stale in versions.glob(f"*{TMP_SUFFIX}"):
        remove_path(stale)
    version = versions / name
    tmp = version.with_name(version.name + TMP_SUFFIX)
    try:
        tmp.mkdir()
        written = write(tmp)
        os.rename(tmp, version)
        previous = link.resolve() if link.is_symlink() else None
        if link.is_dir() and not link.is_symlink():
            link.rmdir()
        new_link = link.with_name(f".{link.name}.{os.getpid()}{TMP_SUFFIX}")
        new_link.unlink(missing_ok=True)
        os.symlink(version.relative_to(link.parent), new_link, target_is_directory=True)
        os.replace(new_link, link)
    finally:
        remove_path(tmp)
    keep = {version.resolve(), previous}
    for old in versions.iterdir():
        if old.resolve() not in keep and not old.name.endswith(TMP_SUFFIX):
            remove_path(old)
    return version, written
