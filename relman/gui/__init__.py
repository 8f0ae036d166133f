"""The relman desktop app (PySide6). The only package of relman that imports Qt."""
