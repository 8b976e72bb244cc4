import math

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


def test_equals_the_formula_term_by_term():
    """L_KL = T^2 / |S| sum_s mean_i sum_c p_t log(p_t / p_s); L_feat = 1/|S| sum_s mean_{i,d} (h_s - h_t)^2."""
    g = torch.Generator().manual_seed(1)
    T = 3.0
    teacher = torch.randn(6, 4, generator=g, dtype=torch.float64)
    students = [torch.randn(6, 4, generator=g, dtype=torch.float64) for _ in range(2)]
    h_t = torch.randn(6, 5, generator=g, dtype=torch.float64)
    h_s = [torch.randn(6, 5, generator=g, dtype=torch.float64) for _ in range(2)]
    kl, feat = CrossModalDistillationLoss(temperature=T)(students, teacher, h_s, h_t)

    def softmax(row):
        e = [math.exp(v / T) for v in row]
        return [v / sum(e) for v in e]

    expected_kl = 0.0
    for s in students:
        per_utterance = []
        for i in range(6):
            p_t, p_s = softmax(teacher[i].tolist()), softmax(s[i].tolist())
            per_utterance.append(sum(a * math.log(a / b) for a, b in zip(p_t, p_s)))
        expected_kl += sum(per_utterance) / 6
    expected_kl *= T * T / 2
    expected_feat = sum(float(((s - h_t) ** 2).sum()) / 30 for s in h_s) / 2
    assert abs(kl.item() - expected_kl) < 1e-10 and abs(feat.item() - expected_feat) < 1e-10
    no_students = CrossModalDistillationLoss()([], teacher, [], h_t)
    assert no_students[0].item() == 0.0 and no_students[1].item() == 0.0
