"""The names of a dataset's splits, in order."""

SPLITS = ("train", "dev", "test")
