"""Registries relman reads lineage from and promotes in: the protocol and its backends.

``base`` holds the :class:`~relman.registry.base.Registry` protocol every backend implements,
``buildinfo`` reads and writes JFrog build-info, ``local`` is the embedded local registry.
"""
