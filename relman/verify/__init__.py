"""Offline verification: checksums, checksum lists and sidecars (signatures come later)."""
