import torch

from dialoggraph.nn.losses import GatedEmotionTransfer, transfer_labels


def test_transfer_labels_on_a_hand_made_dialogue():
    y = torch.tensor([0, 0, 1, -1, 1])            # joy joy anger ? anger
    pairs = torch.tensor([[0, 1, 2, 3, 2, 0], [1, 2, 3, 4, 4, 4]])
    assert transfer_labels(y, pairs).tolist() == [0, 1, -1, -1, 0, 1]


def test_threshold_filters_pairs_and_ungated_counts_all():
    torch.manual_seed(0)
    h, h2 = torch.randn(5, 4), torch.randn(5, 4)
    y = torch.tensor([0, 0, 1, 2, 1])
    pairs = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    module = GatedEmotionTransfer(4, 8, dropout=0.0, threshold=0.5)
    torch.nn.init.constant_(module.gate.bias, -50.0)   # every gate ~0 < tau: no pair counts
    loss, logits, gate = module(h, h2, pairs, y)
    assert logits.shape == (4, 2) and bool((gate < 0.5).all()) and loss.item() == 0.0
    torch.nn.init.constant_(module.gate.bias, 50.0)    # every gate ~1
    loss, logits, _ = module(h, h2, pairs, y)
    expected = torch.nn.functional.cross_entropy(logits, transfer_labels(y, pairs[[1, 0]]))
    assert torch.allclose(loss, expected)
    ungated = GatedEmotionTransfer(4, 8, dropout=0.0, gate=False)
    assert ungated(h, h2, pairs, y)[2].tolist() == [1.0] * 4
