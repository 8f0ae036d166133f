"""Commands of the release engine: registered by :func:`register`."""

from __future__ import annotations

import argparse

from relman.cli.common import Parser


def register(sub: argparse._SubParsersAction[Parser]) -> None:
    """Add this module's commands to the top-level parser (filled in as they are built)."""
