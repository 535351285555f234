"""`python -m connector` runs the promosync command line."""

import sys

from connector.cli import main

sys.exit(main())
