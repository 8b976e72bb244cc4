"""dialoggraph: graph neural networks for multimodal emotion recognition in conversation."""
__version__ = "0.3.0.dev0"
