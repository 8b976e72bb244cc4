"""Training, evaluation, metrics, checkpoints, distributed training and the CLI."""
