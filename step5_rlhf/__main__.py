"""`python -m step5_rlhf …` is the same as `step5-rlhf …`."""

import sys

from .cli import main

sys.exit(main())
