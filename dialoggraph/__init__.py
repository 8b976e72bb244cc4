"""dialoggraph: graph neural networks for multimodal emotion recognition in conversation.

The Python entry points (imported on first use, so ``dialoggraph --version`` stays fast):

- :func:`run`: train a model over seeds into a run folder, as ``dialoggraph train`` does;
- :func:`load`: the model a checkpoint holds;
- :class:`Predictor`: emotions for a raw transcript table and its media;
- :class:`Trainer`, :class:`TrainConfig`: the training loop itself.
"""
__version__ = "0.3.0.dev0"

_LAZY = {"run": ("dialoggraph.train.runner", "run"), "RunResult": ("dialoggraph.train.runner", "RunResult"),
         "Predictor": ("dialoggraph.train.inference", "Predictor"), "Trainer": ("dialoggraph.train.trainer", "Trainer"),
         "TrainConfig": ("dialoggraph.train.trainer", "TrainConfig")}
__all__ = ["load", *_LAZY]


def load(path: str, model_class: type | None = None, device: str = "cpu"):
    """The model a checkpoint holds, rebuilt and in evaluation mode
    (:func:`dialoggraph.train.checkpoint.load_model`; ``model_class`` for a class defined in a
    notebook or script).

    Example:
        .. code-block:: python

            model = dialoggraph.load("runs/amb/best.pt")
    """
    from dialoggraph.train.checkpoint import load_model
    return load_model(path, model_class, device)[0]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'dialoggraph' has no attribute {name!r}")
