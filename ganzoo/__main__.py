"""``python -m ganzoo`` runs the command line."""

import sys

from ganzoo.cli import console_main

sys.exit(console_main())
