"""``python -m tinygrad_mvc ...``: the same as the ``tinygrad-mvc`` command."""

import sys

from tinygrad_mvc.cli import main

if __name__ == "__main__":
    sys.exit(main())
