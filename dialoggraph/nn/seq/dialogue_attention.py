"""Multi-head attention within each dialogue, on flat node features."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.checkpoint import checkpoint

from dialoggraph.data.padding import from_padded, to_padded
from dialoggraph.nn.dropout import Dropout, dropout as drop

#: Above this many attention weights (batch x heads x L x L), attention with dropout runs in
#: query chunks recomputed in the backward pass, so the weights are never all in memory.
CHUNKED_ABOVE = 2 ** 20
QUERY_CHUNK = 256


def scaled_dot_product_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, dropout: float) -> Tensor:
    r""":math:`\mathrm{softmax}(QK^\top / \sqrt{d} + M)\,V` with attention dropout, never materialising
    all ``B x H x L x L`` weights for long dialogues.

    Without dropout it is :func:`torch.nn.functional.scaled_dot_product_attention` (its flash /
    memory-efficient kernels take the mask). Dropout on the weights needs them all in memory
    (:func:`attention_with_dropout`), so when the weights would exceed :data:`CHUNKED_ABOVE` and
    the dialogues are
    longer than :data:`QUERY_CHUNK`, the queries run in chunks of :data:`QUERY_CHUNK`, each
    recomputed in the backward pass (activation
    checkpointing, the RNG state replayed): peak memory O(chunk x L) instead of O(L^2). The chunks
    use torch's kernel (its math kernel, with ``bernoulli_``): with :func:`attention_with_dropout`
    instead, MFCRE's training step on one dialogue of 2,000 utterances left the process 3.7 GB
    at its peak against 1.7 GB, from the allocator's fragmentation (the live tensors were the same).

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
        return attention_with_dropout(q, k, v, mask, dropout)
    # torch's kernel here: its chunks' peak resident memory stays lower (measured, MFCRE at L = 2000)
    parts = [checkpoint(F.scaled_dot_product_attention, q[:, :, start:start + QUERY_CHUNK], k, v, mask, dropout,
                        use_reentrant=False)
             for start in range(0, q.size(2), QUERY_CHUNK)]
    return torch.cat(parts, dim=2)


def attention_with_dropout(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, dropout: float) -> Tensor:
    r""":func:`torch.nn.functional.scaled_dot_product_attention`, except with dropout on CPU (and not
    under ``torch.compile``): there torch's kernel draws the weights' dropout mask with
    ``bernoulli_``, two to three times the cost of a uniform draw (10% of an MDGET-MER training
    step's operator time, profiled), so the weights are computed here and dropped by
    :func:`~dialoggraph.nn.dropout.dropout`: the same distribution, other draws (docs/speed.md).

    Every query needs at least one key its ``mask`` lets through (a dialogue's own utterances).
    In bf16 or fp16 (``--precision``) the weights are computed in float32, as the dropout's draws
    are, so a bf16 run draws the masks of the float32 run and the scores keep float32 accuracy.

    Shapes: as :func:`scaled_dot_product_attention`.

    Example:
        Values of 1: without dropout each query's weights sum to 1; with dropout the kept
        weights are scaled by ``1 / (1 - p)``, so the sum is 1 on average:

        >>> q, k, v = torch.randn(1, 1, 4, 8), torch.randn(1, 1, 4, 8), torch.ones(1, 1, 4, 1)
        >>> mask = torch.tensor([True, True, True, False]).view(1, 1, 1, 4)   # the last key is padding
        >>> torch.allclose(attention_with_dropout(q, k, v, mask, 0.0), torch.ones(1, 1, 4, 1))
        True
        >>> _ = torch.manual_seed(0)
        >>> many = torch.ones(1, 1, 4000, 1)
        >>> sums = attention_with_dropout(torch.randn(1, 1, 4000, 8), torch.randn(1, 1, 4000, 8), many,
        ...                               torch.ones(1, 1, 1, 4000, dtype=torch.bool), 0.5)
        >>> round(sums.mean().item(), 1)
        1.0
    """
    if dropout == 0.0 or q.device.type != "cpu" or torch.compiler.is_compiling():
        return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
    work = torch.promote_types(q.dtype, torch.float32)
    with torch.autocast(q.device.type, enabled=False):
        scores = (q.to(work) @ k.to(work).transpose(-1, -2)).mul_(1.0 / math.sqrt(q.size(-1)))
        weights = drop(torch.softmax(scores.masked_fill_(~mask, float("-inf")), dim=-1), dropout)
        return (weights @ v.to(work)).to(v.dtype)


def attend_within_dialogues(qkv: Tensor, batch: Tensor | None, heads: int, dropout: float,
                            return_weights: bool = False):
    r"""Multi-head attention inside each dialogue from flat, already projected queries, keys and
    values; the projections before and after stay on the real utterances.

    .. math::
        \mathrm{head}_h(\mathbf{q}_i) = \sum_{j \in \mathcal{D}(i)}
            \operatorname{softmax}_j\Big(\frac{\mathbf{q}^{h\top}_i \mathbf{k}^h_j}{\sqrt{d_k}}\Big)\, \mathbf{v}^h_j

    over the utterances :math:`\mathcal{D}(i)` of utterance :math:`i`'s dialogue, heads
    concatenated. Only this step sees the dialogues padded to ``[B, L_max]`` (one padding of the
    concatenated ``qkv``), through :func:`scaled_dot_product_attention`; the caller applies the
    output projection to the returned real rows.

    Args:
        qkv: ``[N, 3D]``: the projected queries, keys and values side by side.
        batch: ``[N]`` dialogue of each utterance (None: one dialogue).
        heads: number of heads :math:`H` (:math:`d_k = D / H`).
        dropout: dropout on the attention weights (0 in evaluation).
        return_weights: also return the weights averaged over heads, before dropout,
            ``[B, L_max, L_max]`` (as :class:`torch.nn.MultiheadAttention` returns them).

    Shapes: ``qkv`` :math:`(N, 3D)` -> :math:`(N, D)`.

    Example:
        One utterance's keys never reach another dialogue:

        >>> batch = torch.tensor([0, 0, 1])
        >>> qkv = torch.randn(3, 3 * 8)
        >>> out = attend_within_dialogues(qkv, batch, heads=2, dropout=0.0)
        >>> changed = qkv.clone(); changed[2] += 5.0
        >>> out.shape, torch.allclose(out[:2], attend_within_dialogues(changed, batch, 2, 0.0)[:2])
        (torch.Size([3, 8]), True)
    """
    padded, mask = to_padded(qkv, batch)                                       # [B, L, 3D]
    b, length, width = padded.shape
    q, k, v = padded.view(b, length, 3, heads, width // (3 * heads)).permute(2, 0, 3, 1, 4)   # [B, H, L, d_k]
    key_mask = mask[:, None, None, :]
    out = scaled_dot_product_attention(q, k, v, key_mask, dropout)
    out = from_padded(out.transpose(1, 2).reshape(b, length, width // 3), mask)
    if not return_weights:
        return out
    scores = (q @ k.transpose(-1, -2)) / math.sqrt(q.size(-1))
    return out, torch.softmax(scores.masked_fill(~key_mask, float("-inf")), dim=-1).mean(1)


class DialogueAttention(torch.nn.Module):
    """``MHA(query, key, key)`` restricted to each dialogue: flat ``[N, D]`` in and out.

    Queries and keys are padded per dialogue and the padding is masked, so an
    utterance attends to every utterance of its own dialogue (past and
    future) and to nothing else. The parameters are a
    :class:`torch.nn.MultiheadAttention`'s; the attention itself is
    :func:`scaled_dot_product_attention`, so a 2000-utterance dialogue never holds
    its ``H x L x L`` weights in memory.

    Args:
        channels: feature size :math:`D` of queries, keys and output.
        heads: attention heads.
        dropout: dropout on the attention weights.

    Shapes:
        - **input:** ``query``, ``key`` :math:`(N, D)` (the keys are also the values); ``batch`` :math:`(N)`
        - **output:** :math:`(N, D)`

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
        mha = self.attention
        channels = query.size(-1)
        if query is key:                       # self-attention: one projection of the real utterances
            qkv = F.linear(query, mha.in_proj_weight, mha.in_proj_bias)
        else:
            qkv = torch.cat([F.linear(query, mha.in_proj_weight[:channels], mha.in_proj_bias[:channels]),
                             F.linear(key, mha.in_proj_weight[channels:], mha.in_proj_bias[channels:])], dim=-1)
        out = attend_within_dialogues(qkv, batch, mha.num_heads, mha.dropout if self.training else 0.0)
        return mha.out_proj(out)


class DialogueTransformerLayer(torch.nn.Module):
    r"""A post-LN transformer encoder layer with separate query and key/value inputs, per dialogue:

    .. math::
        \bar{\mathbf{X}} = \mathrm{LN}(\mathrm{MHA}(\mathbf{Q}, \mathbf{K}, \mathbf{K}) + \mathbf{R}),\qquad
        \mathrm{out} = \mathrm{LN}(\mathrm{FFN}_{ReLU}(\bar{\mathbf{X}}) + \bar{\mathbf{X}})

    ``Transformer(Q, K, V)`` of MFCRE eqs. 4-5 (residual ``R = Q``) and the
    language-guided blocks of LFVD eqs. 6-7 (residual: the attended modality).
    The feed-forward is twice as wide as ``channels``.

    Args:
        channels: feature size :math:`D`.
        heads: attention heads.
        dropout: dropout on the attention weights and inside the feed-forward.

    Shapes:
        - **input:** ``query``, ``key`` :math:`(N, D)`; ``batch`` :math:`(N)`; ``residual``
          :math:`(N, D)` (optional; default the query)
        - **output:** :math:`(N, D)`

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
