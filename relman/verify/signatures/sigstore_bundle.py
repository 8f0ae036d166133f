"""Keyless Sigstore bundles (``.sigstore.json``, ``.sigstore``, ``.bundle``), verified offline.

sigstore-python's :class:`~sigstore.verify.Verifier` checks, against a pinned
``trusted_root.json`` and without any network access: the signed time (Rekor SET/integrated
time or RFC 3161 timestamp), the Fulcio chain at that time, the embedded SCT, the Merkle
inclusion proof and its signed checkpoint, the signature over the artifact (or the DSSE
envelope) and the consistency of the log entry with the bundle.

Policy: a keyless signature proves only that *someone* with an OIDC identity signed, so it is
trusted only against an expected identity (``--identity``, the certificate SAN) **and** issuer
(``--issuer``). Without them the bundle is still checked, and its SAN and issuer reported, but
the result is ``ok=False``: "give --identity and --issuer to trust it".

Not handled here: bundles with a ``publicKey`` (cosign ``--key``): that is the
``cosign-bundle`` format. Old v0.1 bundles without a checkpoint in their inclusion proof
cannot be verified offline (``sigstore plumbing fix-bundle`` repairs them, online).

DSSE bundles (in-toto attestations) hand the verified payload to
:mod:`~relman.verify.signatures.provenance` for the subject and lineage checks; the
provenance commit must agree with the certificate's source commit when both are present.
"""

from __future__ import annotations

import binascii
import functools
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cryptography import x509
from sigstore.errors import Error as SigstoreError
from sigstore.errors import VerificationError as SigstoreVerificationError
from sigstore.hashes import Hashed
from sigstore.models import Bundle, InvalidBundle, TrustedRoot
from sigstore.verify import Verifier, policy
from sigstore_models.common.v1 import HashAlgorithm

from relman.errors import InputError
from relman.verify.signatures import provenance
from relman.verify.signatures.base import (
    Artifact,
    Context,
    Pending,
    SignatureFormatError,
    SignatureResult,
)
from relman.verify.signatures.dsse import b64decode_any

_OIDC_ISSUER = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")  # raw bytes
_OIDC_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")  # DER UTF8String
_OTHERNAME = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.7")
_CERT_FACTS = {
    "source": x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.12"),  # SourceRepositoryURI
    "commit": x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.13"),  # SourceRepositoryDigest
    "ref": x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.14"),  # SourceRepositoryRef
    "build_signer": x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.9"),  # BuildSignerURI
    "invocation": x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.21"),  # RunInvocationURI
}

PINNED_ROOT = "trusted_root.json"
STAGING_ROOT = "staging_trusted_root.json"

_NO_CHECKPOINT = (
    "this bundle has no inclusion proof with checkpoint (an old v0.1 bundle); it cannot be "
    "verified offline — repair it online with `sigstore plumbing fix-bundle`, or get a newer "
    "bundle from the publisher"
)


# --- trust roots -----------------------------------------------------------------------


def pinned_root_text(name: str = PINNED_ROOT) -> str:
    """The text of a trusted root shipped in ``relman/resources/sigstore``."""
    return resources.files("relman.resources").joinpath("sigstore", name).read_text("utf-8")


@functools.lru_cache(maxsize=8)
def _verifier_for(path: str | None, stamp: tuple[int, int]) -> Verifier:
    if path is None:
        with resources.as_file(
            resources.files("relman.resources").joinpath("sigstore", PINNED_ROOT)
        ) as pinned:
            root = TrustedRoot.from_file(str(pinned))
    else:
        try:
            root = TrustedRoot.from_file(path)
        except (OSError, ValueError, SigstoreError) as exc:
            raise InputError(
                f"{path}: is not a Sigstore trusted_root.json ({exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''})"
            ) from None
    return Verifier(trusted_root=root)


def verifier(trusted_root: Path | None = None) -> Verifier:
    """A Verifier for ``trusted_root`` (a file), or the pinned public-good root. Offline."""
    if trusted_root is None:
        return _verifier_for(None, (0, 0))
    try:
        st = os.stat(trusted_root)
    except OSError as exc:
        raise InputError(f"{trusted_root}: cannot read the trusted root ({exc.strerror})") from None
    return _verifier_for(str(trusted_root), (st.st_mtime_ns, st.st_size))


# --- certificate facts -----------------------------------------------------------------


def _der_utf8(raw: bytes) -> str | None:
    """The text of a DER UTF8String (tag 0x0c, short or long length), else None."""
    if len(raw) < 2 or raw[0] != 0x0C:
        return None
    length, offset = raw[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(raw[2 : 2 + count], "big"), 2 + count
    body = raw[offset : offset + length]
    if len(body) != length:
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _extension_bytes(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> bytes | None:
    try:
        value = cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    return value.value if isinstance(value, x509.UnrecognizedExtension) else None


def certificate_identity(cert: x509.Certificate) -> tuple[str, str]:
    """(SAN, OIDC issuer) of a Fulcio certificate; ``"?"`` for what it does not carry."""
    san = "?"
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        ext = None
    if ext is not None:
        names: list[str] = list(ext.get_values_for_type(x509.UniformResourceIdentifier))
        names += ext.get_values_for_type(x509.RFC822Name)
        names += [
            on.value.decode("utf-8", "replace")
            for on in ext.get_values_for_type(x509.OtherName)
            if on.type_id == _OTHERNAME
        ]
        san = names[0] if names else san
    issuer = None
    raw = _extension_bytes(cert, _OIDC_ISSUER)
    if raw is not None:
        issuer = raw.decode("utf-8", "replace")
    else:
        raw = _extension_bytes(cert, _OIDC_ISSUER_V2)
        issuer = _der_utf8(raw) if raw is not None else None
    return san, issuer or "?"


def certificate_facts(cert: x509.Certificate) -> dict[str, str]:
    """The Sigstore source facts (repository, commit, ref, build signer, run) of a cert."""
    facts: dict[str, str] = {}
    for name, oid in _CERT_FACTS.items():
        raw = _extension_bytes(cert, oid)
        text = _der_utf8(raw) if raw is not None else None
        if text:
            facts[name] = text
    return facts


def _signed_at(bundle: Bundle) -> str | None:
    try:
        seconds = int(bundle.log_entry._inner.integrated_time or 0)
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


class _ExtractOnly(policy.UnsafeNoOp):
    """Checks everything but the identity, so the SAN and issuer can be *reported*.

    Never used to pass: a bundle checked with it is always ``ok=False``."""

    def verify(self, cert: x509.Certificate) -> None:
        return None


# --- verification ----------------------------------------------------------------------


def _failure_reason(
    exc: Exception, san: str, issuer: str, context: Context, entry_kind: str
) -> str:
    text = str(exc)
    if "SANs do not match" in text:
        return f"signed by {san} ({issuer}), not by the expected identity {context.identity}"
    if "OIDCIssuer" in text:
        return (
            f"signed by {san} through the OIDC issuer {issuer}, not the expected issuer "
            f"{context.issuer}"
        )
    if "message digest mismatch" in text or "Signature is invalid for input" in text:
        return (
            "the artifact does not match the Sigstore signature: it was modified, or the "
            "bundle is for another file"
        )
    if "only supported for" in text or "Unsupported DSSE log entry" in text:
        return (
            f"the bundle's transparency-log entry is of a kind ({entry_kind}) that cannot be "
            f"checked offline here ({text})"
        )
    return f"the Sigstore bundle does not verify offline: {text}"


class BundlePending:
    """One keyless bundle: verify offline, then apply the identity policy."""

    def __init__(self, bundle: Bundle, doc: Mapping[str, Any], source: str, context: Context):
        self.bundle = bundle
        self.source = source
        self.context = context
        self.verifier = verifier(context.trusted_root)
        self.is_dsse = bundle._dsse_envelope is not None
        self.payload_type = provenance.payload_type_of(doc)
        self.in_toto = self.is_dsse and self.payload_type == provenance.IN_TOTO_PAYLOAD_TYPE
        self.needs: frozenset[str] = frozenset({"sha256"})
        self._doc = doc

    def claims(self, artifact: Artifact) -> bool:
        sha256 = artifact.digests.get("sha256")
        if self.is_dsse:
            env = self._doc.get("dsseEnvelope")
            payload = env.get("payload") if isinstance(env, dict) else None
            if not isinstance(payload, str):
                return False
            try:
                return provenance.claims_artifact(b64decode_any(payload), sha256)
            except (binascii.Error, ValueError):
                return False
        digest = provenance._get(self._doc, "messageSignature", "messageDigest", "digest")
        if not isinstance(digest, str) or sha256 is None:
            return False
        try:
            return b64decode_any(digest) == sha256
        except (binascii.Error, ValueError):
            return False

    def finish(self, artifact: Artifact) -> SignatureResult:
        cert = self.bundle.signing_certificate
        san, issuer = certificate_identity(cert)
        signer = f"{san} ({issuer})"
        kind = "provenance" if self.in_toto else "signature"
        trusted_policy = bool(self.context.identity and self.context.issuer)
        checker: policy.VerificationPolicy = (
            policy.Identity(identity=self.context.identity or "", issuer=self.context.issuer)
            if trusted_policy
            else _ExtractOnly()
        )
        facts = {"identity": san, "issuer": issuer}
        signed_at = _signed_at(self.bundle)
        if signed_at:
            facts["signed_at"] = signed_at

        def fail(detail: str, extra: Mapping[str, str] | None = None) -> SignatureResult:
            return SignatureResult(
                False,
                "sigstore",
                self.source,
                detail,
                kind=kind,
                signer=signer,
                facts=MappingProxyType({**facts, **(extra or {})}),
            )

        payload, payload_type = b"", self.payload_type
        try:
            if self.is_dsse:
                payload_type, payload = self.verifier.verify_dsse(self.bundle, checker)
            else:
                sha256 = artifact.digests.get("sha256")
                if sha256 is None:
                    return fail("the artifact's SHA-256 was not computed; nothing was checked")
                self.verifier.verify_artifact(
                    Hashed(algorithm=HashAlgorithm.SHA2_256, digest=sha256), self.bundle, checker
                )
        except (SigstoreVerificationError, SigstoreError, ValueError) as exc:
            kind_version = self.bundle.log_entry._inner.kind_version
            entry_kind = f"{kind_version.kind} {kind_version.version}"
            return fail(_failure_reason(exc, san, issuer, self.context, entry_kind))
        if not trusted_policy:
            missing = " and ".join(
                flag
                for flag, value in (
                    ("--identity", self.context.identity),
                    ("--issuer", self.context.issuer),
                )
                if not value
            )
            return fail(
                f"keyless Sigstore signature by {san} ({issuer}) — give --identity and "
                f"--issuer to trust it ({missing} missing)"
            )
        cert_facts = certificate_facts(cert)
        if not self.is_dsse:
            facts.update(cert_facts)
            detail = f"Sigstore signature by {signer}, verified offline against the trusted root"
            if "commit" in cert_facts:
                detail += f", source commit {provenance.short_commit(cert_facts['commit'])}"
            return SignatureResult(
                True,
                "sigstore",
                self.source,
                detail,
                signer=signer,
                facts=MappingProxyType(facts),
            )
        if payload_type != provenance.IN_TOTO_PAYLOAD_TYPE:
            return fail(
                f"the Sigstore DSSE bundle is signed by {signer}, but its payload type "
                f"{payload_type!r} is not an in-toto Statement, so it names no artifact "
                "relman can check"
            )
        extra = dict(facts)
        if "commit" in cert_facts:
            extra["certificate_commit"] = cert_facts["commit"]
        return provenance.check_statement(
            payload,
            artifact,
            format="sigstore",
            source=self.source,
            signer=signer,
            fingerprint=None,
            extra_facts=extra,
        )


class _Unverifiable:
    """A bundle that parses but can never verify offline (reason given at finish)."""

    def __init__(self, source: str, reason: str, kind: str) -> None:
        self.source, self.reason, self.kind = source, reason, kind
        self.needs: frozenset[str] = frozenset()

    def claims(self, artifact: Artifact) -> bool:
        return False

    def finish(self, artifact: Artifact) -> SignatureResult:
        return SignatureResult(False, "sigstore", self.source, self.reason, kind=self.kind)


_BASE64_FIELDS = (
    ("messageSignature", "signature"),
    ("messageSignature", "messageDigest", "digest"),
    ("dsseEnvelope", "payload"),
    ("verificationMaterial", "certificate", "rawBytes"),
)


def _bad_base64_field(doc: Mapping[str, Any]) -> str | None:
    """The first base64 field of a bundle that does not decode (sigstore decodes lazily)."""
    values = [(".".join(path), provenance._get(doc, *path)) for path in _BASE64_FIELDS]
    sigs = provenance._get(doc, "dsseEnvelope", "signatures")
    for entry in sigs if isinstance(sigs, list) else []:
        values.append(("dsseEnvelope.signatures.sig", provenance._get(entry, "sig")))
    for name, value in values:
        if value is None:
            continue
        try:
            if not isinstance(value, str):
                raise ValueError(name)
            b64decode_any(value)
        except (binascii.Error, ValueError):
            return name
    return None


def prepare_document(doc: Any, where: str, context: Context) -> BundlePending | _Unverifiable:
    """A Pending for one parsed bundle; :class:`SignatureFormatError` when it is none."""
    if not provenance.is_bundle(doc):
        raise SignatureFormatError(f"{where}: is not a Sigstore bundle (no bundle mediaType)")
    if provenance.is_key_bundle(doc):
        raise SignatureFormatError(
            f"{where}: is a key-based Sigstore bundle (publicKey), not a keyless one; it is "
            "verified with a trusted key as a cosign bundle"
        )
    kind = "provenance" if provenance.is_in_toto(doc) else "signature"
    bad = _bad_base64_field(doc)
    if bad is not None:
        raise SignatureFormatError(f"{where}: is not a valid Sigstore bundle ({bad} is not base64)")
    try:
        bundle = Bundle.from_json(json.dumps(doc))
    except InvalidBundle as exc:
        if "inclusion proof" in str(exc) and "checkpoint" in str(exc):
            return _Unverifiable(where, _NO_CHECKPOINT, kind)
        raise SignatureFormatError(f"{where}: is not a valid Sigstore bundle ({exc})") from None
    except (ValueError, TypeError, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise SignatureFormatError(f"{where}: is not a valid Sigstore bundle ({first})") from None
    return BundlePending(bundle, doc, where, context)


class SigstoreFormat:
    """Keyless Sigstore bundles over an artifact (``messageSignature``) or wrapping a
    non-in-toto DSSE payload; bundles wrapping in-toto Statements are sniffed by
    :data:`relman.verify.signatures.provenance.FORMAT` (which verifies them here)."""

    name = "sigstore"

    def sniff(self, data: bytes, filename: str) -> bool:
        docs = provenance.sniff_documents(data)
        return (
            bool(docs)
            and all(provenance.is_bundle(d) and not provenance.is_key_bundle(d) for d in docs)
            and not any(provenance.is_in_toto(d) for d in docs)
        )

    def prepare(self, data: bytes, source: str, context: Context) -> Pending:
        docs = provenance.split_documents(data, source, "a Sigstore bundle")
        lines = [
            prepare_document(doc, source if len(docs) == 1 else f"{source}, line {n}", context)
            for n, doc in docs
        ]
        return provenance.combine(lines, source)


FORMAT = SigstoreFormat()
