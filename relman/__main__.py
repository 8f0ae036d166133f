"""``python -m relman`` is the same as ``relman``."""

import sys

from relman.launcher import main

sys.exit(main())
