"""relman: build-once, promote-by-metadata releases that people can see and enforce."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("relman")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

APP_ID = "io.github.relman.Relman"
APP_NAME = "relman"
