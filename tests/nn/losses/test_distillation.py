import torch

from dialoggraph.nn.losses import CrossModalDistillationLoss


def test_zero_when_students_equal_the_teacher_and_positive_otherwise():
    torch.manual_seed(0)
    loss = CrossModalDistillationLoss(temperature=2.0)
    teacher, feat = torch.randn(5, 4), torch.randn(5, 8)
    kl, consistency = loss([teacher.clone(), teacher.clone()], teacher, [feat.clone()], feat)
    assert kl.abs().item() < 1e-6 and consistency.item() == 0.0
    student = torch.randn(5, 4, requires_grad=True)
    kl, consistency = loss([student], teacher, [feat + 1], feat)
    assert kl.item() > 0 and consistency.item() == 1.0
    kl.backward()
    assert student.grad is not None


def test_teacher_is_detached_and_mask_selects():
    loss = CrossModalDistillationLoss()
    teacher = torch.randn(4, 3, requires_grad=True)
    student = torch.randn(4, 3)
    kl, _ = loss([student], teacher, [torch.zeros(4, 2)], torch.ones(4, 2, requires_grad=True),
                 mask=torch.tensor([True, False, True, False]))
    assert not kl.requires_grad                       # nothing flows into the teacher
    empty = loss([student], teacher, [torch.zeros(4, 2)], torch.ones(4, 2), mask=torch.zeros(4, dtype=torch.bool))
    assert empty[0].item() == 0.0
