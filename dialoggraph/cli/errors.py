"""What the command line reports as a user error (one line, exit 2)."""
from __future__ import annotations

from dialoggraph.config import ConfigError
from dialoggraph.data.errors import DialogueValidationError
from dialoggraph.extras import MissingExtraError
from dialoggraph.train.checkpoint import CheckpointError


class CLIError(Exception):
    """A user error found by the command line itself (a missing file, a wrong combination)."""


#: Errors caused by the user's input; anything else is a bug and keeps its traceback.
USER_ERRORS = (CLIError, ConfigError, DialogueValidationError, CheckpointError, FileNotFoundError,
               FileExistsError, PermissionError, FloatingPointError, MissingExtraError)
