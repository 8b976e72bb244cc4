import os

import pytest
import torch

SHARED_MELD = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "meld")


@pytest.fixture
def meld_root():
    """The real MELD CSVs in ../shared (skips cleanly when it is absent)."""
    if not os.path.exists(os.path.join(SHARED_MELD, "train_sent_emo.csv")):
        pytest.skip("../shared/data/meld is absent")
    return SHARED_MELD


def random_batch(generator: torch.Generator, num_dialogues: int, max_len: int, max_speakers: int):
    """Random (speaker, batch) of dialogues of length 1..max_len with up to max_speakers speakers."""
    lengths = torch.randint(1, max_len + 1, (num_dialogues,), generator=generator)
    speakers = [torch.randint(0, int(torch.randint(1, max_speakers + 1, (1,), generator=generator)),
                              (int(n),), generator=generator) for n in lengths]
    batch = torch.repeat_interleave(torch.arange(num_dialogues), lengths)
    return torch.cat(speakers), batch


def loss_after_training(model, batch, steps: int, lr: float) -> tuple[float, float]:
    """(first, last) training loss of ``steps`` Adam steps on one batch (trainer's loss)."""
    from dialoggraph.train.engine import training_loss
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = training_loss(model(batch), batch["utterance"].y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses[0], losses[-1]


def assert_dialogues_isolated(model, batch, modalities, dialogue: int = 0, atol: float = 1e-5) -> None:
    """Changing one dialogue's features changes its predictions and no other dialogue's."""
    before = model(batch).logits
    changed = batch.clone()
    inside = batch["utterance"].batch == dialogue
    for m in modalities:
        changed["utterance"][f"x_{m}"][inside] += 3.0
    after = model(changed).logits
    assert torch.allclose(before[~inside], after[~inside], atol=atol)
    assert not torch.allclose(before[inside], after[inside])


@pytest.fixture(autouse=True)
def cli_runs_in_a_temporary_folder(request, tmp_path, monkeypatch):
    """Command-line runs without --out go to runs/ under the current folder: keep them out of the checkout."""
    if request.node.path.parent.name == "cli":
        monkeypatch.chdir(tmp_path)


def write_folder(root, splits=("train",), dialogues=12, length=3, width=4, seed=0):
    """A small dataset in the folder format: two speakers taking turns, labels joy / sad."""
    import numpy as np
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = ["dialogue,speaker,label"] + [f"d{i},{'AB'[j % 2]},{'joy' if (i + j) % 2 else 'sad'}"
                                          for i in range(dialogues) for j in range(length)]
    for split in splits:
        (root / f"{split}.csv").write_text("\n".join(lines) + "\n")
        np.save(root / f"{split}.text.npy", rng.standard_normal((dialogues * length, width)).astype(np.float32))
    return root
