"""`python -m zkpot` is the `zkpot` command."""

import sys

from zkpot.cli.main import main

sys.exit(main())
