import torch

from dialoggraph.nn import Dropout
from dialoggraph.nn.dropout import dropout


def test_dropout_keeps_one_minus_p_and_rescales():
    torch.manual_seed(0)
    x = torch.ones(200_000, requires_grad=True)
    y = dropout(x, 0.3, True)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.7) < 0.005
    torch.testing.assert_close(y[kept], torch.full_like(y[kept], 1 / 0.7))
    assert abs(y.mean().item() - 1.0) < 0.01                   # unbiased
    y.backward(torch.full_like(y, 2.0))
    torch.testing.assert_close(x.grad, 2.0 * y.detach())      # the gradient goes through the kept ones, rescaled


def test_dropout_is_the_identity_in_eval_and_at_zero():
    x = torch.randn(5, 3)
    assert dropout(x, 0.5, False) is x and dropout(x, 0.0, True) is x
    layer = Dropout(0.4).eval()
    assert layer(x) is x and repr(layer) == "Dropout(p=0.4, inplace=False)"
    assert (Dropout(1.0).train()(x) == 0).all()


def test_dropout_of_bf16_drops_p():
    torch.manual_seed(0)
    y = dropout(torch.ones(1_000_000, dtype=torch.bfloat16), 0.1, True)
    assert y.dtype == torch.bfloat16
    assert abs((y == 0).float().mean().item() - 0.1) < 0.0012      # 4 sd; a bf16 draw drops 10.2%
