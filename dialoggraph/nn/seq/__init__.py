"""Node-feature transforms that read each dialogue as a sequence."""
from dialoggraph.nn.seq.dialogue_attention import DialogueAttention, DialogueTransformerLayer
from dialoggraph.nn.seq.dialogue_crn import DialogueCRN, ReasonModule, memory_retrieval, simam
from dialoggraph.nn.seq.dialogue_gru import DialogueGRU
from dialoggraph.nn.seq.gated_unimodal_encoder import GatedUnimodalEncoder
from dialoggraph.nn.seq.vil import ViLBlock, parallel_mlstm
from dialoggraph.nn.seq.xlstm import XLSTM, MLSTMCell, SLSTMCell, XLSTMBlock
from dialoggraph.nn.seq.transformer_encoder import DialogueTransformerEncoder, sinusoidal_positions

__all__ = ["DialogueCRN", "ReasonModule", "memory_retrieval", "simam", "ViLBlock", "parallel_mlstm", "DialogueGRU",
           "DialogueAttention", "DialogueTransformerLayer", "XLSTM", "XLSTMBlock", "SLSTMCell", "MLSTMCell",
           "GatedUnimodalEncoder", "DialogueTransformerEncoder", "sinusoidal_positions"]
