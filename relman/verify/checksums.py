"""Checksum lists and sidecars: parse every format people publish, strictly.

Formats read (one list may mix them):

- GNU coreutils: ``<hex>  <name>`` (text mode) and ``<hex> *<name>`` (binary mode); a line
  that starts with a backslash has ``\\\\``, ``\\n`` and ``\\r`` escapes in its name.
- BSD tags (``sha256sum --tag``, ``b2sum --tag``, signify): ``SHA256 (name) = <hex>``.
- ``openssl dgst`` output: ``SHA2-256(name)= <hex>`` and, with ``-r``, the GNU binary form.
- Maven-style sidecars (``file.sha256``): a bare ``<hex>``, or ``<hex>  <name>``.
- SHA256SUMS wrapped in an OpenPGP clear-signature or a signify signature: the signed lines
  are read here; checking the signature itself is the signature layer's job.

Hex may be upper case. Blank lines and ``#`` comments are skipped. Anything else is an error
that names the line, because a list that half-parses is a list that half-verifies.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from relman.errors import ChecksumListError
from relman.verify.hashing import HEX_LENGTHS, canonical_algorithm, describe_os_error, display_path

#: The largest checksum list relman reads (a list of a million files is ~100 MB).
MAX_LIST_BYTES = 256 * 1024 * 1024

#: Checksum-list file names found beside a file, and the algorithm each implies.
LIST_NAMES: dict[str, str] = {
    "SHA256SUMS": "sha256",
    "SHA384SUMS": "sha384",
    "SHA512SUMS": "sha512",
    "SHA1SUMS": "sha1",
    "MD5SUMS": "md5",
    "B2SUMS": "blake2b",
}

#: Sidecar suffixes found beside a file, and the algorithm each holds.
SIDECAR_SUFFIXES: dict[str, str] = {
    ".sha256": "sha256",
    ".sha384": "sha384",
    ".sha512": "sha512",
    ".sha1": "sha1",
    ".md5": "md5",
}

_HEX = re.compile(rb"[0-9A-Fa-f]+")
_TAG_LINE = re.compile(
    rb"(?P<alg>[A-Za-z][A-Za-z0-9_-]*) ?\((?P<name>.*)\) ?= ?(?P<hex>[0-9A-Fa-f]+)"
)
_GNU_LINE = re.compile(rb"(?P<hex>[0-9A-Fa-f]+) (?P<mode>[ *]?)(?P<name>.+)")
_BARE_LINE = re.compile(rb"(?P<hex>[0-9A-Fa-f]+)")
_ANONYMOUS = {"-", "stdin", "(stdin)"}
_PGP_BEGIN = b"-----BEGIN PGP SIGNED MESSAGE-----"
_PGP_SIG = b"-----BEGIN PGP SIGNATURE-----"
_SIGNIFY_COMMENT = b"untrusted comment:"
_LENGTH_TO_ALGORITHM = {32: "md5", 40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}


@dataclass(frozen=True, slots=True)
class ChecksumEntry:
    """One line of a checksum list: ``name`` is None for a bare digest (a sidecar)."""

    algorithm: str
    hexdigest: str
    name: str | None
    line: int
    binary: bool = False


def algorithm_for_list(path: Path) -> str | None:
    """The algorithm a list's file name implies (``SHA256SUMS`` -> sha256), if any."""
    name = path.name
    for stem, algorithm in LIST_NAMES.items():
        if name == stem or name.startswith(stem + "."):
            return algorithm
    for suffix, algorithm in SIDECAR_SUFFIXES.items():
        if name.endswith(suffix):
            return algorithm
    return None


def read_list_file(path: Path, default_algorithm: str | None = None) -> list[ChecksumEntry]:
    """Read and parse a checksum list or sidecar from disk."""
    source = display_path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_LIST_BYTES + 1)
    except OSError as exc:
        raise describe_os_error(path, exc) from None
    if len(data) > MAX_LIST_BYTES:
        raise ChecksumListError(source, "is too large to be a checksum list")
    if default_algorithm is None:
        default_algorithm = algorithm_for_list(path)
    return parse_checksum_list(data, source, default_algorithm)


def parse_checksum_list(
    data: bytes, source: str, default_algorithm: str | None = None
) -> list[ChecksumEntry]:
    """Parse the bytes of a checksum list; ``source`` names it in error messages."""
    if not data.strip():
        raise ChecksumListError(source, "is empty, not a checksum list")
    if b"\0" in data:
        raise ChecksumListError(source, "holds binary data, not a checksum list")
    entries: list[ChecksumEntry] = []
    for number, raw in _signed_lines(data, source):
        line = raw.rstrip(b"\r\n").rstrip(b"\r")
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        stripped = line.strip()
        if not stripped or stripped.startswith(b"#"):
            continue
        if not entries and stripped[:1] == b"<":
            raise ChecksumListError(
                source, "is not a checksum list (it looks like an HTML or XML page)"
            )
        entries.append(_parse_line(line, number, source, default_algorithm))
    if not entries:
        raise ChecksumListError(source, "holds no checksum lines")
    return entries


def _signed_lines(data: bytes, source: str) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number, line)`` of the signed content, skipping signature armour."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip() == _PGP_BEGIN:
        i = first + 1
        while i < len(lines) and lines[i].strip():  # "Hash: SHA256" armour headers
            i += 1
        i += 1
        ended = False
        for j in range(i, len(lines)):
            if lines[j].strip() == _PGP_SIG:
                ended = True
                break
            line = lines[j]
            yield j + 1, line[2:] if line.startswith(b"- ") else line
        if not ended:
            raise ChecksumListError(source, "OpenPGP clear-signed list has no signature block")
        return
    start = 0
    if first is not None and lines[first].startswith(_SIGNIFY_COMMENT):
        start = first + 2  # the comment line and the base64 signature line
    for j in range(start, len(lines)):
        yield j + 1, lines[j]


def _parse_line(
    line: bytes, number: int, source: str, default_algorithm: str | None
) -> ChecksumEntry:
    escaped = line.startswith(b"\\")
    body = line[1:] if escaped else line
    tag = _TAG_LINE.fullmatch(body)
    if tag is not None:
        alg_name = tag["alg"].decode("ascii")
        algorithm = canonical_algorithm(alg_name)
        if algorithm is None:
            raise ChecksumListError(source, f"unsupported digest algorithm {alg_name!r}", number)
        hexdigest = _check_hex(tag["hex"], algorithm, number, source)
        return ChecksumEntry(algorithm, hexdigest, _name(tag["name"], escaped), number)
    gnu = _GNU_LINE.fullmatch(body)
    if gnu is not None and _HEX.fullmatch(gnu["hex"]):
        algorithm = _algorithm_for(gnu["hex"], default_algorithm, number, source)
        hexdigest = _check_hex(gnu["hex"], algorithm, number, source)
        return ChecksumEntry(
            algorithm, hexdigest, _name(gnu["name"], escaped), number, binary=gnu["mode"] == b"*"
        )
    bare = _BARE_LINE.fullmatch(body.strip())
    if bare is not None and not escaped:
        algorithm = _algorithm_for(bare["hex"], default_algorithm, number, source)
        return ChecksumEntry(
            algorithm, _check_hex(bare["hex"], algorithm, number, source), None, number
        )
    shown = line.decode("utf-8", "backslashreplace")
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise ChecksumListError(source, f"not a checksum line: {shown!r}", number)


def _algorithm_for(
    hexdigits: bytes, default_algorithm: str | None, number: int, source: str
) -> str:
    if default_algorithm is not None:
        return default_algorithm
    algorithm = _LENGTH_TO_ALGORITHM.get(len(hexdigits))
    if algorithm is None:
        raise ChecksumListError(
            source,
            f"a digest of {len(hexdigits)} hex digits matches no supported algorithm",
            number,
        )
    return algorithm


def _check_hex(hexdigits: bytes, algorithm: str, number: int, source: str) -> str:
    want = HEX_LENGTHS[algorithm]
    if len(hexdigits) != want:
        raise ChecksumListError(
            source,
            f"{algorithm} digest has {len(hexdigits)} hex digits, {want} expected",
            number,
        )
    return hexdigits.decode("ascii").lower()


def _name(raw: bytes, escaped: bool) -> str | None:
    if escaped:
        raw = _unescape(raw)
    name = os.fsdecode(raw)
    return None if name in _ANONYMOUS else name


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == 0x5C and i + 1 < len(raw):  # backslash
            nxt = raw[i + 1]
            out.append({0x6E: 0x0A, 0x72: 0x0D, 0x5C: 0x5C}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return bytes(out)


def parse_hex_digest(text: str, algorithm: str = "sha256", *, what: str = "--sha256") -> str:
    """Validate a digest given on the command line; return it in lower case."""
    value = text.strip()
    want = HEX_LENGTHS[algorithm]
    if not _HEX.fullmatch(value.encode("ascii", "replace")):
        raise ChecksumListError(what, f"{value[:80]!r} is not hexadecimal")
    if len(value) != want:
        raise ChecksumListError(
            what, f"{algorithm} digest has {len(value)} hex digits, {want} expected"
        )
    return value.lower()
