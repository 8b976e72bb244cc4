import torch

from dialoggraph.nn.conv.sparse import TargetCSR, edge_weighted_sum

EDGES = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 0, 2, 6, 6], [0, 1, 2, 3, 4, 5, 6, 1, 1, 0, 0]])  # unsorted, duplicate


def test_matches_gather_scatter_and_gradcheck(device):
    torch.manual_seed(0)
    csr = TargetCSR.build(EDGES.to(device), 7)
    assert not csr.is_input_order and bool((csr.dst[1:] >= csr.dst[:-1]).all())
    alpha = torch.randn(EDGES.size(1), dtype=torch.float64, device=device, requires_grad=True)
    x = torch.randn(7, 3, dtype=torch.float64, device=device, requires_grad=True)
    out = edge_weighted_sum(alpha, x, csr)
    expected = torch.zeros(7, 3, dtype=torch.float64, device=device).index_add_(
        0, csr.dst, alpha.unsqueeze(1) * x[csr.src])
    assert torch.allclose(out, expected)
    assert torch.autograd.gradcheck(lambda a, x: edge_weighted_sum(a, x, csr), (alpha, x))


def test_per_head_repetition_is_one_graph_per_head():
    torch.manual_seed(1)
    csr = TargetCSR.build(EDGES, 7)
    heads = csr.per_head(3)
    alpha = torch.randn(3, EDGES.size(1), dtype=torch.float64)
    x = torch.randn(3, 7, 4, dtype=torch.float64)
    together = edge_weighted_sum(alpha.reshape(-1), x.reshape(21, 4), heads).view(3, 7, 4)
    for h in range(3):
        assert torch.allclose(together[h], edge_weighted_sum(alpha[h], x[h], csr))
