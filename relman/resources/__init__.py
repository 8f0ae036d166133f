"""Non-GUI package data that relman reads at run time through :mod:`importlib.resources`.

Pinned trust material lives here, so that verification never fetches trust from the network or
from the artifact's own directory: ``sigstore/trusted_root.json`` (Sigstore public-good
instance) and ``sigstore/staging_trusted_root.json`` (Sigstore staging, for tests). GUI assets
(icons, stylesheets) are not kept here.
"""
