"""dialoggraph: graph neural networks for multimodal emotion recognition in conversation."""
__version__ = "0.2.0"
