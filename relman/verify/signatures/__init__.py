"""Signature formats, each verified offline against named, trusted keys.

Every format module exposes a :class:`~relman.verify.signatures.base.Format` object. The
dispatcher (:mod:`relman.verify.signatures.dispatch`) recognises a signature file, asks its
format which digests of the artifact it needs, and gets them from the one read pass that also
serves the checksums; only formats that sign the whole message (pure Ed25519, minisign legacy,
signify, OpenPGP) read the file again, through ``mmap`` or the OpenPGP library.
"""
