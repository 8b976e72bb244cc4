"""Node-feature transforms that read each dialogue as a sequence."""
from dialoggraph.nn.seq.transformer_encoder import DialogueTransformerEncoder, sinusoidal_positions

__all__ = ["DialogueTransformerEncoder", "sinusoidal_positions"]
