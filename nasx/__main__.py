"""``python -m nasx``."""

import sys

from nasx.cli.main import main

sys.exit(main())
