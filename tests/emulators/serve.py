"""Run an Artifactory emulator in a process of its own, serving one file from disk.

Benchmarks start it as a child so that the server does not share the client's interpreter
lock (an emulator thread in the measured process would take turns with the client on every
request and every ``sendfile`` call)::

    python -m tests.emulators.serve FILE [--repo libs-dev] [--path big.bin] [--token T]

It hashes ``FILE`` once (the ``X-Checksum-*`` headers), starts listening on 127.0.0.1, prints
one JSON line ``{"url": ..., "token": ..., "repo": ..., "path": ..., "sha256": ...}`` on
stdout, and serves until it is terminated (SIGTERM or SIGINT) or its stdin is closed, so a
parent that dies takes it along.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from tests.emulators.artifactory import ArtifactoryEmulator

DEFAULT_TOKEN = "serve-token-0123456789"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulators.serve")
    parser.add_argument("file", type=Path, help="the file to serve")
    parser.add_argument("--repo", default="libs-dev")
    parser.add_argument("--path", default="big.bin", help="its path in the repository")
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ArtifactoryEmulator(token=args.token) as emu:
        emu.add_repo(args.repo)
        stored = emu.deploy_file(args.repo, args.path, args.file)
        ready = {
            "url": emu.url,
            "token": args.token,
            "repo": args.repo,
            "path": stored.path,
            "sha256": stored.sha256,
        }
        print(json.dumps(ready), flush=True)
        threading.Thread(target=_wait_for_eof, args=(stop,), daemon=True).start()
        while not stop.wait(1.0):
            pass
        errors = list(emu.errors)
    for text in errors:
        print(text, file=sys.stderr)
    return 1 if errors else 0


def _wait_for_eof(stop: threading.Event) -> None:
    # The file descriptor, not sys.stdin: a daemon thread blocked inside the buffered reader
    # holds its lock, and the interpreter aborts on it at exit (after a SIGTERM).
    while os.read(sys.stdin.fileno(), 4096):
        pass
    stop.set()


if __name__ == "__main__":
    sys.exit(main())
