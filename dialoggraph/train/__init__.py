"""Training, evaluation, metrics, checkpoints and distributed training."""
from dialoggraph.train.engine import TrainConfig, Trainer, evaluate, model_from_checkpoint, predict

__all__ = ["Trainer", "TrainConfig", "evaluate", "predict", "model_from_checkpoint"]
