"""A (bidirectional) GRU over each dialogue, as a node-feature transform."""
from __future__ import annotations

import torch
from torch import Tensor

from dialoggraph.data.padding import from_padded, to_padded


class DialogueGRU(torch.nn.Module):
    r"""``torch.nn.GRU`` run over each dialogue of a batch: flat ``[N, F]`` in, ``[N, hidden]`` out.

    Dialogues are padded and packed (``pack_padded_sequence``), so the
    backward direction starts at each dialogue's own last utterance and
    padding never changes a result. With ``bidirectional`` the two directions
    have ``hidden // 2`` units each and are concatenated (the Bi-GRU of LFVD
    eq. 2).

    Args:
        in_channels: input feature size :math:`F`.
        hidden: output size (each direction ``hidden // 2`` when bidirectional).
        bidirectional: run both directions.
        num_layers: stacked GRU layers.

    Shapes:
        - **input:** ``x`` :math:`(N, F)`; ``batch`` :math:`(N)` (optional)
        - **output:** :math:`(N, \text{hidden})`

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> DialogueGRU(8, 16)(torch.randn(5, 8), batch).shape
        torch.Size([5, 16])
    """

    def __init__(self, in_channels: int, hidden: int, bidirectional: bool = True, num_layers: int = 1):
        super().__init__()
        if bidirectional and hidden % 2:
            raise ValueError(f"a bidirectional GRU needs an even hidden size, got {hidden}")
        self.gru = torch.nn.GRU(in_channels, hidden // 2 if bidirectional else hidden, num_layers=num_layers,
                                batch_first=True, bidirectional=bidirectional)

    def forward(self, x: Tensor, batch: Tensor | None = None) -> Tensor:
        padded, mask = to_padded(x, batch)
        packed = torch.nn.utils.rnn.pack_padded_sequence(padded, mask.sum(1).cpu(), batch_first=True,
                                                         enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=padded.size(1))
        return from_padded(out, mask)
