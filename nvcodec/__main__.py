"""``python -m nvcodec``: the same command line as the ``nvcodec`` script."""

import sys

from nvcodec.cli import main

sys.exit(main())
