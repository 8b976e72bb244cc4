"""``python -m dialoggraph``: the command line (``torchrun ... -m dialoggraph train ...`` for DDP)."""
import sys

from dialoggraph.cli import main

sys.exit(main())
