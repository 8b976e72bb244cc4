"""Multi-head attention within each dialogue, on flat node features."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from dialoggraph.data.padding import from_padded, to_padded
from dialoggraph.nn.dropout import Dropout

#: Above this many attention weights (batch x heads x L x L), attention with dropout runs in
#: query chunks recomputed in the backward pass, so the weights are never all in memory.
CHUNKED_ABOVE = 2 ** 20
QUERY_CHUNK = 256


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, dropout: float) -> Tensor:
    r""":math:`\mathrm{softmax}(QK^\top / \sqrt{d} + M)\,V` with attention dropout, never materialising
    all ``B x H x L x L`` weights for long dialogues.

    Without dropout it is :func:`torch.nn.functional.scaled_dot_product_attention` (its flash /
    memory-efficient kernels take the mask). Dropout on the weights makes torch fall back to
    the math kernel, so when the weights would exceed :data:`CHUNKED_ABOVE` and the dialogues are
    longer than :data:`QUERY_CHUNK`, the queries run in chunks of :data:`QUERY_CHUNK`, each
    recomputed in the backward pass (activation
    checkpointing, the RNG state replayed): peak memory O(chunk x L) instead of O(L^2).

    Shapes: ``q`` :math:`(B, H, L_q, d)`, ``k``, ``v`` :math:`(B, H, L_k, d)`, ``mask`` boolean
    :math:`(B, 1, 1, L_k)` (True: attend) -> :math:`(B, H, L_q, d)`.

    Example:
        Two dialogues of lengths 3 and 2 padded to 3; the padded key is never attended to:

        >>> q = k = v = torch.randn(2, 4, 3, 8)
        >>> mask = torch.tensor([[True, True, True], [True, True, False]]).view(2, 1, 1, 3)
        >>> out = scaled_dot_product_attention(q, k, v, mask, dropout=0.0)
        >>> out.shape
        torch.Size([2, 4, 3, 8])
        >>> v2 = v.clone(); v2[1, :, 2] = 100.0
        >>> torch.allclose(out[1], scaled_dot_product_attention(q, k, v2, mask, dropout=0.0)[1])
        True
    """
    if dropout == 0.0 or q.size(2) <= QUERY_CHUNK or q.size(0) * q.size(1) * q.size(2) * k.size(2) <= CHUNKED_ABOVE:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
    parts = [checkpoint(F.scaled_dot_product_attention, q[:, :, start:start + QUERY_CHUNK], k, v, mask, dropout,
                        use_reentrant=False)
             for start in range(0, q.size(2), QUERY_CHUNK)]
    return torch.cat(parts, dim=2)


class DialogueAttention(torch.nn.Module):
    """``MHA(query, key, key)`` restricted to each dialogue: flat ``[N, D]`` in and out.

    Queries and keys are padded per dialogue and the padding is masked, so an
    utterance attends to every utterance of its own dialogue (past and
    future) and to nothing else. The parameters are a
    :class:`torch.nn.MultiheadAttention`'s; the attention itself is
    :func:`scaled_dot_product_attention`, so a 2000-utterance dialogue never holds
    its ``H x L x L`` weights in memory.

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> x = torch.randn(5, 16)
        >>> DialogueAttention(16, heads=4)(x, x, batch).shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.attention = torch.nn.MultiheadAttention(channels, heads, dropout=dropout, batch_first=True)

    def forward(self, query: Tensor, key: Tensor, batch: Tensor | None) -> Tensor:
        q, mask = to_padded(query, batch)
        k, _ = to_padded(key, batch)
        mha = self.attention
        b, length, channels = q.shape
        w_q, w_k, w_v = mha.in_proj_weight.chunk(3)
        b_q, b_k, b_v = mha.in_proj_bias.chunk(3)

        def heads(x: Tensor) -> Tensor:
            return x.view(b, x.size(1), mha.num_heads, channels // mha.num_heads).transpose(1, 2)
        out = scaled_dot_product_attention(heads(F.linear(q, w_q, b_q)), heads(F.linear(k, w_k, b_k)),
                                           heads(F.linear(k, w_v, b_v)), mask[:, None, None, :],
                                           mha.dropout if self.training else 0.0)
        return from_padded(mha.out_proj(out.transpose(1, 2).reshape(b, length, channels)), mask)


class DialogueTransformerLayer(torch.nn.Module):
    r"""A post-LN transformer encoder layer with separate query and key/value inputs, per dialogue:

    .. math::
        \bar{\mathbf{X}} = \mathrm{LN}(\mathrm{MHA}(\mathbf{Q}, \mathbf{K}, \mathbf{K}) + \mathbf{R}),\qquad
        \mathrm{out} = \mathrm{LN}(\mathrm{FFN}_{ReLU}(\bar{\mathbf{X}}) + \bar{\mathbf{X}})

    ``Transformer(Q, K, V)`` of MFCRE eqs. 4-5 (residual ``R = Q``) and the
    language-guided blocks of LFVD eqs. 6-7 (residual: the attended modality).
    The feed-forward is twice as wide as ``channels``.

    Example:
        >>> import torch
        >>> batch = torch.tensor([0, 0, 0, 1, 1])           # two dialogues of 3 and 2 utterances
        >>> x = torch.randn(5, 16)
        >>> DialogueTransformerLayer(16, heads=4)(x, x, batch).shape
        torch.Size([5, 16])
    """

    def __init__(self, channels: int, heads: int, dropout: float = 0.0):
        super().__init__()
        self.attention = DialogueAttention(channels, heads, dropout)
        self.norm1 = torch.nn.LayerNorm(channels)
        self.ffn = torch.nn.Sequential(torch.nn.Linear(channels, 2 * channels), torch.nn.ReLU(),
                                       Dropout(dropout), torch.nn.Linear(2 * channels, channels))
        self.norm2 = torch.nn.LayerNorm(channels)

    def forward(self, query: Tensor, key: Tensor, batch: Tensor | None, residual: Tensor | None = None) -> Tensor:
        bar = self.norm1(self.attention(query, key, batch) + (query if residual is None else residual))
        return self.norm2(self.ffn(bar) + bar)
