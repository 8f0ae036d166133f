"""Where relman keeps its files: config, data, cache and logs.

platformdirs gives each the platform's usual place (app name ``relman``). ``RELMAN_HOME=DIR``
puts all of them under DIR (``DIR/config``, ``DIR/data``, ``DIR/cache``, ``DIR/logs``); tests and
portable installs use it. Nothing is created until a writer asks for it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from relman.errors import InputError

APP_NAME = "relman"
HOME_VARIABLE = "RELMAN_HOME"


@dataclass(frozen=True, slots=True)
class Paths:
    config: Path
    data: Path
    cache: Path
    logs: Path

    @property
    def log_file(self) -> Path:
        return self.logs / "relman.log"

    @property
    def audit_log(self) -> Path:
        return self.data / "audit.jsonl"

    @property
    def local_registry(self) -> Path:
        return self.data / "registry"


def resolve(environ: dict[str, str] | None = None) -> Paths:
    """The paths in force for this process (``RELMAN_HOME`` first, then platformdirs)."""
    env = os.environ if environ is None else environ
    home = env.get(HOME_VARIABLE, "").strip()
    if home:
        root = Path(home).expanduser().absolute()
        return Paths(root / "config", root / "data", root / "cache", root / "logs")
    import platformdirs  # imported here: the CLI start-up path should not pay for it

    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return Paths(
        Path(dirs.user_config_dir),
        Path(dirs.user_data_dir),
        Path(dirs.user_cache_dir),
        Path(dirs.user_log_dir),
    )


def ensure_dir(path: Path, *, private: bool = False) -> Path:
    """Create ``path`` (and parents) if missing; ``private`` makes it 0700."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    except OSError as exc:
        raise InputError(f"cannot create folder {path}: {exc.strerror or exc}") from None
    return path


def atomic_write(path: Path, data: bytes | Sequence[bytes], *, private: bool = False) -> None:
    """Write ``data`` (bytes, or pieces written one after another) to ``path`` through a
    temporary file and ``os.replace``.

    A crash leaves either the old file or the new one, never half of either. ``private``
    writes mode 0600 (for anything sensitive).
    """
    ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in (data,) if isinstance(data, bytes | bytearray | memoryview) else data:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600 if private else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_index(path: Path, what: str) -> dict[str, dict[str, str]]:
    """The ``[keys.<name>]`` tables of a small TOML index (``{}`` when the file is absent).

    ``what`` names the file in errors ("the trust store index"): one line, exit 2.
    """
    import tomllib

    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: cannot be read as {what}: {exc}") from None
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        raise InputError(f"{path}: 'keys' is not a table")
    return {str(k): dict(v) for k, v in keys.items() if isinstance(v, dict)}


def write_index(path: Path, index: dict[str, dict[str, str]]) -> None:
    """Write a TOML index (schema 1, entries sorted by name) atomically."""
    import tomli_w

    data = {"schema": 1, "keys": dict(sorted(index.items()))}
    atomic_write(path, tomli_w.dumps(data).encode())
