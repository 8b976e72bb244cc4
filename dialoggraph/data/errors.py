"""The one error type bad input raises."""


class DialogueValidationError(ValueError):
    """Bad input: names the dialogue / file / row and what is wrong.

    A subclass of :class:`ValueError`, so callers that already catch
    ``ValueError`` keep working.
    """
