"""relman: build-once, promote-by-metadata releases that people can see and enforce."""

from __future__ import annotations

APP_ID = "io.github.relman.Relman"
APP_NAME = "relman"


def __getattr__(name: str) -> str:
    # The version is looked up on first use: reading package metadata costs ~20 ms, which
    # every command would otherwise pay at start-up, --help included.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("relman")
        except PackageNotFoundError:  # a source tree that was never installed
            found = "0.0.0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'relman' has no attribute {name!r}")
