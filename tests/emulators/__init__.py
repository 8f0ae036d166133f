"""Registry emulators: real HTTP servers on 127.0.0.1 that tests run in-process.

Each emulator follows a reference contract in ``../shared/reference/`` (field names, types,
status codes, error bodies, the awkward cases) and can inject faults (5xx, resets, short
bodies, slow answers, broken JSON) so backends are tested against the wire, not a mock.
"""
