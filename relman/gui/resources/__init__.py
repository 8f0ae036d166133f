"""Package data of the desktop app: the app icon, status icons (monochrome SVG) and styles.

Read them with ``importlib.resources.files("relman.gui.resources")`` (see ``relman.gui.icons``);
there is no compiled rcc file and no frozen-bundle path logic.
"""
