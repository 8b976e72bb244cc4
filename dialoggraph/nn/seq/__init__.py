"""Node-feature transforms that read each dialogue as a sequence."""
from dialoggraph.nn.seq.dialogue_attention import DialogueAttention, DialogueTransformerLayer
from dialoggraph.nn.seq.dialogue_crn import (DialogueCRNReasoning, dialogue_statistics, memory_retrieval,
                                           simam_energy_gate)
from dialoggraph.nn.seq.dialogue_gru import DialogueGRU
from dialoggraph.nn.seq.gated_unimodal_encoder import GatedUnimodalEncoder
from dialoggraph.nn.seq.xlstm import XLSTM, MLSTMCell, SLSTMCell, XLSTMBlock
from dialoggraph.nn.seq.transformer_encoder import DialogueTransformerEncoder, sinusoidal_positions

__all__ = ["DialogueCRNReasoning", "memory_retrieval", "simam_energy_gate", "dialogue_statistics", "DialogueGRU",
           "DialogueAttention", "DialogueTransformerLayer", "XLSTM", "XLSTMBlock", "SLSTMCell", "MLSTMCell",
           "GatedUnimodalEncoder", "DialogueTransformerEncoder", "sinusoidal_positions"]
