"""``python -m tinygrad_mvc.cli``: the same as the ``tinygrad-mvc`` command."""

import sys

from tinygrad_mvc.cli import main

sys.exit(main())
