"""``python -m ganzoo`` runs the command line."""

import sys

from ganzoo.cli import main

sys.exit(main())
