"""``python -m laughter_server``."""

import sys

from laughter_server.cli import main

sys.exit(main())
