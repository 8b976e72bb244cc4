"""Training: the loop (:class:`Trainer`), what a run does around it (:mod:`~dialoggraph.train.callbacks`),
a whole run over seeds (:func:`run`), inference on raw input (:class:`Predictor`), evaluation, metrics,
checkpoints and distributed training."""
from dialoggraph.train.callbacks import Checkpoints, Console, EpochLog, ProgressBar, TensorBoardLog, run_callbacks
from dialoggraph.train.curves import Curves
from dialoggraph.train.checkpoint import CheckpointError, load_model
from dialoggraph.train.evaluation import evaluate, predict
from dialoggraph.train.inference import Predictions, Predictor
from dialoggraph.train.metrics import METRICS, register_metric
from dialoggraph.train.runner import RunResult, run
from dialoggraph.train.trainer import Callback, TrainConfig, Trainer, training_loss

__all__ = ["Trainer", "TrainConfig", "Callback", "run", "RunResult", "Predictor", "Predictions", "evaluate", "predict",
           "METRICS", "register_metric",
           "load_model",
           "CheckpointError", "training_loss", "run_callbacks", "EpochLog", "Checkpoints", "Curves", "TensorBoardLog",
           "Console", "ProgressBar"]
