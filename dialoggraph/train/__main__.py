"""``python -m dialoggraph.train ...`` (and ``torchrun ... -m dialoggraph.train ...``): the CLI."""
import sys

from dialoggraph.train.cli import main

sys.exit(main())
