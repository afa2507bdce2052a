"""``python -m laughter``: the same as the ``laughter`` command."""

import sys

from laughter._cli import main

sys.exit(main())
