"""Training, evaluation, metrics, checkpoints and distributed training."""
