"""Checksum lists as the real tools write them (coreutils, openssl), and malformed ones."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from relman.errors import ChecksumListError
from relman.verify.checksums import (
    algorithm_for_list,
    parse_checksum_list,
    parse_hex_digest,
    read_list_file,
)

DATA = b"relman checksum fixture\n"
SHA256 = hashlib.sha256(DATA).hexdigest()


def tool(*argv: str, cwd: Path) -> bytes:
    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} is needed to make this fixture (install coreutils/openssl)")
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True).stdout


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "app.tar.gz").write_bytes(DATA)
    (tmp_path / "lib.jar").write_bytes(DATA * 3)
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "algorithm", "binary"),
    [
        (["sha256sum", "app.tar.gz", "lib.jar"], "sha256", False),
        (["sha256sum", "--binary", "app.tar.gz", "lib.jar"], "sha256", True),
        (["sha256sum", "--tag", "app.tar.gz", "lib.jar"], "sha256", False),
        (["sha512sum", "app.tar.gz", "lib.jar"], "sha512", False),
        (["sha1sum", "--tag", "app.tar.gz", "lib.jar"], "sha1", False),
        (["md5sum", "app.tar.gz", "lib.jar"], "md5", False),
        (["b2sum", "--tag", "app.tar.gz", "lib.jar"], "blake2b", False),
        (["openssl", "dgst", "-sha256", "app.tar.gz", "lib.jar"], "sha256", False),
        (["openssl", "dgst", "-sha512", "app.tar.gz", "lib.jar"], "sha512", False),
        (["openssl", "dgst", "-md5", "app.tar.gz", "lib.jar"], "md5", False),
        (["openssl", "dgst", "-blake2b512", "app.tar.gz", "lib.jar"], "blake2b", False),
        (["openssl", "dgst", "-sha256", "-r", "app.tar.gz", "lib.jar"], "sha256", True),
    ],
)
def test_lists_written_by_real_tools(
    folder: Path, argv: list[str], algorithm: str, binary: bool
) -> None:
    out = tool(*argv, cwd=folder)
    # A list named like the tool's usual output, so GNU lines get their algorithm from it.
    default = {"sha512": "sha512", "md5": "md5", "blake2b": "blake2b"}.get(algorithm)
    entries = parse_checksum_list(out, "LIST", default)
    assert [e.name for e in entries] == ["app.tar.gz", "lib.jar"]
    assert all(e.algorithm == algorithm for e in entries)
    want = (
        hashlib.new(algorithm, DATA).hexdigest()
        if algorithm != "blake2b"
        else hashlib.blake2b(DATA).hexdigest()
    )
    assert entries[0].hexdigest == want
    assert entries[0].line == 1 and entries[1].line == 2
    assert entries[0].binary is binary


def test_escaped_names_as_coreutils_writes_them(tmp_path: Path) -> None:
    names = ["new\nline.bin", "back\\slash.bin"]
    for name in names:
        (tmp_path / name).write_bytes(DATA)
    out = tool("sha256sum", *names, cwd=tmp_path)
    assert out.startswith(b"\\")  # coreutils marks escaped lines with a leading backslash
    entries = parse_checksum_list(out, "SHA256SUMS", "sha256")
    assert [e.name for e in entries] == names
    tagged = parse_checksum_list(tool("sha256sum", "--tag", *names, cwd=tmp_path), "L")
    assert [e.name for e in tagged] == names


def test_non_utf8_name_round_trips(tmp_path: Path) -> None:
    raw = b"caf\xe9.bin"
    (tmp_path / os.fsdecode(raw)).write_bytes(DATA)
    out = subprocess.run(["sha256sum", raw], cwd=tmp_path, check=True, capture_output=True).stdout
    (entry,) = parse_checksum_list(out, "SHA256SUMS", "sha256")
    assert entry.name is not None and os.fsencode(entry.name) == raw


def test_upper_case_hex_crlf_bom_comments_and_blank_lines() -> None:
    text = (
        "\ufeff# release 1.4.2\r\n\r\n"
        f"{SHA256.upper()}  app.tar.gz\r\n"
        f"SHA256 (lib.jar) = {SHA256.upper()}\r\n"
    ).encode()
    entries = parse_checksum_list(text, "SHA256SUMS", "sha256")
    assert [(e.name, e.hexdigest, e.line) for e in entries] == [
        ("app.tar.gz", SHA256, 3),
        ("lib.jar", SHA256, 4),
    ]


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (f"{SHA256}\n", None),
        (f"{SHA256}  app.tar.gz\n", "app.tar.gz"),
        (f"{SHA256} *app.tar.gz\n", "app.tar.gz"),
        (f"{SHA256} app.tar.gz\n", "app.tar.gz"),
        (f"  {SHA256}  \n", None),
        (f"SHA2-256(stdin)= {SHA256}\n", None),
        (f"{SHA256}  -\n", None),
    ],
)
def test_maven_style_sidecars(tmp_path: Path, content: str, name: str | None) -> None:
    sidecar = tmp_path / "app.tar.gz.sha256"
    sidecar.write_text(content)
    (entry,) = read_list_file(sidecar)
    assert (entry.algorithm, entry.hexdigest, entry.name) == ("sha256", SHA256, name)


def test_sidecar_algorithm_comes_from_its_suffix(tmp_path: Path) -> None:
    sidecar = tmp_path / "app.jar.sha1"
    sidecar.write_text(hashlib.sha1(DATA).hexdigest())
    (entry,) = read_list_file(sidecar)
    assert entry.algorithm == "sha1"
    wrong = tmp_path / "app.jar.md5"
    wrong.write_text(SHA256)
    with pytest.raises(
        ChecksumListError, match=r"app.jar.md5, line 1: md5 digest has 64 hex digits, 32 expected"
    ):
        read_list_file(wrong)


def test_algorithm_by_length_without_a_hint() -> None:
    lines = [
        hashlib.md5(DATA).hexdigest(),
        hashlib.sha1(DATA).hexdigest(),
        SHA256,
        hashlib.sha512(DATA).hexdigest(),
    ]
    entries = parse_checksum_list(
        "".join(f"{h}  f{i}\n" for i, h in enumerate(lines)).encode(), "L"
    )
    assert [e.algorithm for e in entries] == ["md5", "sha1", "sha256", "sha512"]


def test_clear_signed_and_signify_wrappers_are_unwrapped() -> None:
    pgp = (
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
        f"{SHA256}  app.tar.gz\n- dash-escaped-line-is-not-here\n"
        "-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCgAdFiEE\n-----END PGP SIGNATURE-----\n"
    )
    with pytest.raises(ChecksumListError, match="line 5: not a checksum line"):
        parse_checksum_list(pgp.encode(), "SHA256SUMS.asc", "sha256")
    pgp = pgp.replace("- dash-escaped-line-is-not-here", f"- {SHA256}  -dash.bin")
    entries = parse_checksum_list(pgp.encode(), "SHA256SUMS.asc", "sha256")
    assert [e.name for e in entries] == ["app.tar.gz", "-dash.bin"]
    signify = (
        "untrusted comment: verify with release.pub\n"
        "RWQf6LRCGA9i59SLOFxz6NxvASXDJeRtuZykwQepbDEGt87ig1BNpWaVWuNrm73YiIiJbq71Wi+dP9eKL8OC351vwIasSSbXxwA=\n"
        f"SHA256 (app.tar.gz) = {SHA256}\n"
    )
    (entry,) = parse_checksum_list(signify.encode(), "SHA256.sig")
    assert (entry.name, entry.line) == ("app.tar.gz", 3)


def test_unterminated_clear_signature_is_refused() -> None:
    text = f"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n{SHA256}  a\n"
    with pytest.raises(ChecksumListError, match="no signature block"):
        parse_checksum_list(text.encode(), "SHA256SUMS")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty, not a checksum list"),
        (b"\n  \n", "is empty"),
        (b"# only a comment\n", "holds no checksum lines"),
        (b"<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n", "looks like an HTML"),
        (b"\x89PNG\r\n\x1a\n\0\0\0", "binary data"),
        (
            f"{SHA256}  a\nnot a line at all\n".encode(),
            r"LIST, line 2: not a checksum line: 'not a line at all'",
        ),
        (f"{SHA256[:-1]}  a\n".encode(), "line 1: sha256 digest has 63 hex digits, 64 expected"),
        (f"{SHA256}g  a\n".encode(), "line 1: not a checksum line"),
        (f"SHA3-256 (a) = {SHA256}\n".encode(), "line 1: unsupported digest algorithm 'SHA3-256'"),
        (b"abcdef  a\n", "6 hex digits matches no supported algorithm"),
    ],
)
def test_malformed_lists_name_what_and_where(content: bytes, message: str) -> None:
    default = None if b"abcdef" in content else "sha256"
    with pytest.raises(ChecksumListError, match=message) as info:
        parse_checksum_list(content, "LIST", default)
    assert "\n" not in str(info.value)


def test_a_long_bad_line_is_shortened_in_the_message() -> None:
    with pytest.raises(ChecksumListError) as info:
        parse_checksum_list(b"x" * 5000 + b"\n", "LIST", "sha256")
    assert len(str(info.value)) < 120


def test_unreadable_list_file(tmp_path: Path) -> None:
    with pytest.raises(ChecksumListError.__mro__[1], match="no such file"):
        read_list_file(tmp_path / "SHA256SUMS")
    with pytest.raises(ChecksumListError.__mro__[1], match="is a folder"):
        read_list_file(tmp_path)


def test_algorithm_for_list_names() -> None:
    assert algorithm_for_list(Path("SHA256SUMS")) == "sha256"
    assert algorithm_for_list(Path("SHA512SUMS.asc")) == "sha512"
    assert algorithm_for_list(Path("B2SUMS")) == "blake2b"
    assert algorithm_for_list(Path("x.tar.gz.md5")) == "md5"
    assert algorithm_for_list(Path("checksums.txt")) is None


def test_parse_hex_digest() -> None:
    assert parse_hex_digest(SHA256.upper()) == SHA256
    with pytest.raises(ChecksumListError, match="--sha256: 'xyz' is not hexadecimal"):
        parse_hex_digest("xyz")
    with pytest.raises(ChecksumListError, match="63 hex digits"):
        parse_hex_digest(SHA256[1:])
    with pytest.raises(ChecksumListError, match="not hexadecimal"):
        parse_hex_digest("é" * 64)


# -- property: whatever coreutils can write, relman reads back --------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_names = st.binary(min_size=1, max_size=40).filter(
    lambda b: b"\0" not in b and b.strip() == b and not b.startswith(b"#")
)


def _coreutils_line(hexdigest: str, name: bytes, binary: bool, tag: bool) -> bytes:
    escaped = b"\\" in name or b"\n" in name or b"\r" in name
    body = name.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
    prefix = b"\\" if escaped else b""
    if tag:
        return prefix + b"SHA256 (" + body + b") = " + hexdigest.encode() + b"\n"
    return prefix + hexdigest.encode() + (b" *" if binary else b"  ") + body + b"\n"


@given(
    rows=st.lists(
        st.tuples(st.binary(min_size=32, max_size=32), _names, st.booleans(), st.booleans()),
        min_size=1,
        max_size=20,
    ),
    upper=st.booleans(),
)
def test_round_trip_of_coreutils_lines(
    rows: list[tuple[bytes, bytes, bool, bool]], upper: bool
) -> None:
    text = b"".join(
        _coreutils_line(d.hex().upper() if upper else d.hex(), name, binary, tag)
        for d, name, binary, tag in rows
    )
    entries = parse_checksum_list(text, "SHA256SUMS", "sha256")
    assert [(e.hexdigest, os.fsencode(e.name or "-")) for e in entries] == [
        (d.hex(), name) for d, name, _, _ in rows
    ]
