"""A Hugging Face text encoder fine-tuned on emotions in context, then used as a feature extractor.

This is how the text features of the MERC papers are made (RoBERTa fine-tuned
on the training dialogues, its pooled states taken as utterance features), as
one featurizer (``--text finetune:MODEL``): ``fit`` on the train split, ``transform``
every split, ``save`` / ``load`` the result by path.
"""
from __future__ import annotations

import json
import os
from typing import Any, Sequence

import numpy as np
import torch
from sklearn.metrics import f1_score

from dialoggraph.io import atomic_folder, atomic_write
from dialoggraph.progress import progress as show_progress
from dialoggraph.extras import pretrained, require
from dialoggraph.features.base import TextFeaturizer, register_featurizer, versions
from dialoggraph.features.transcript import Utterance

HEAD_FILE = "dialoggraph_head.pt"
SETTINGS_FILE = "dialoggraph_encoder.json"


def context_pairs(texts: Sequence[str], speakers: Sequence[str], dialogues: Sequence[str],
                  context: int, separator: str) -> list[tuple[str, str]]:
    """The encoder's input for each utterance: ``("speaker: text", previous utterances)``.

    The second part holds the ``context`` previous utterances of the same
    dialogue as ``"speaker: text"``, most recent first, joined by ``separator``
    (so truncation drops the oldest). Rows of a dialogue are contiguous and in order.
    """
    pairs = []
    for i, (text, speaker, dialogue) in enumerate(zip(texts, speakers, dialogues)):
        previous = []
        j = i - 1
        while j >= 0 and len(previous) < context and dialogues[j] == dialogue:
            previous.append(f"{speakers[j]}: {texts[j]}")
            j -= 1
        pairs.append((f"{speaker}: {text}", f" {separator} ".join(previous)))
    return pairs


@register_featurizer
class ContextualTextEncoder(TextFeaturizer):
    """Fine-tune any Hugging Face encoder to classify emotions in context; extract its features.

    For utterance :math:`u_i` of a dialogue the input is the pair
    ``("s_i: u_i", "s_{i-1}: u_{i-1} [SEP] ... s_{i-k}: u_{i-k}")`` (speaker
    names, the ``k`` previous utterances most recent first). The feature is
    the mean of the encoder's last hidden states over the input's tokens,

    .. math:: h_i = \\frac{1}{|T_i|} \\sum_{t \\in T_i} H_{i,t},

    and a linear layer :math:`W h_i + b` classifies it, trained with
    cross-entropy and AdamW on the labelled train utterances. After every epoch
    the dev weighted F1 is measured; the epoch with the best one is kept (the
    test split plays no part). ``transform`` returns :math:`h_i` of the kept
    encoder: the features the graph models are trained on.

    Args:
        model: a hub name or a local folder of a ``transformers`` encoder
            (``AutoModel`` + ``AutoTokenizer``), e.g. RoBERTa or MiniLM.
        context: ``k``, previous utterances in the input.
        epochs: fine-tuning epochs.
        lr: AdamW learning rate.
        batch_size: utterances per step.
        max_length: tokens per input (the context is truncated first).
        weight_decay: AdamW weight decay.
        seed: initialisation of the head, order of the batches and dropout.
        device: where to fine-tune and extract.

    Shapes:
        ``transform``: ``n`` utterances -> ``[n, hidden_size]`` float32.
    """

    kinds = ("finetune",)
    takes_model = True
    extra = "text"

    def __init__(self, model: str, context: int = 2, epochs: int = 3, lr: float = 3e-5,
                 batch_size: int = 32, max_length: int = 128, weight_decay: float = 0.01, seed: int = 0,
                 device: str = "cpu"):
        self.model = model
        self.context = context
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.max_length = max_length
        self.weight_decay = weight_decay
        self.seed = seed
        self.device = device
        self.history: list[dict] = []
        self.best_epoch: int | None = None
        self._load_encoder(model)
        self.head: torch.nn.Linear | None = None

    def _load_encoder(self, path: str) -> None:
        transformers = require("transformers", "text", "the fine-tuned text encoder")
        self.tokenizer = pretrained(transformers.AutoTokenizer.from_pretrained, path)
        self.encoder = pretrained(transformers.AutoModel.from_pretrained, path).to(self.device)

    @property
    def dim(self) -> int:
        return int(self.encoder.config.hidden_size)

    @classmethod
    def from_spec(cls, kind, model, config) -> "ContextualTextEncoder":
        return cls(model, config.context, config.finetune_epochs, config.finetune_lr, config.finetune_batch_size,
                   config.max_length, seed=config.seed, device=config.device)

    def settings(self) -> dict:
        return {"model": self.model, "context": self.context, "epochs": self.epochs, "lr": self.lr,
                "batch_size": self.batch_size, "max_length": self.max_length,
                "weight_decay": self.weight_decay, "seed": self.seed}

    def _pairs(self, utterances: Sequence[Utterance]) -> list[tuple[str, str]]:
        return context_pairs([u.text for u in utterances], [u.speaker for u in utterances],
                             [u.dialogue for u in utterances], self.context, self.tokenizer.sep_token or "|")

    def _pooled(self, pairs: list[tuple[str, str]]) -> torch.Tensor:
        encoded = [self.tokenizer(first, second or None, truncation="only_second" if second else True,
                                  max_length=self.max_length) for first, second in pairs]
        inputs = self.tokenizer.pad(encoded, return_tensors="pt").to(self.device)
        hidden = self.encoder(**inputs).last_hidden_state
        mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)

    def _dev_f1(self, pairs, labels: np.ndarray) -> float:
        logits = self.head(torch.from_numpy(self._features(pairs)).to(self.device))
        keep = labels >= 0
        return float(f1_score(labels[keep], logits.argmax(1).cpu().numpy()[keep], average="weighted") * 100)

    def fit(self, train: Sequence[Utterance], dev: Sequence[Utterance] = (), label_names: Sequence[str] = (),
            state_dir: str | None = None, progress: bool = True) -> "ContextualTextEncoder":
        """Fine-tune on the labelled train utterances (no emotion: context only).

        Args:
            train: the train utterances, a dialogue's rows contiguous and in order.
            dev: the dev utterances, whose weighted F1 selects the epoch.
            label_names: the classes of the head, in order (default: the sorted emotions of ``train``).
            state_dir: where the state after each epoch is kept; a fit interrupted
                and started again with the same ``state_dir`` and settings goes
                on from the last finished epoch. A finished fit leaves the kept
                encoder (``best/``) and its history there, not the optimizer state,
                so fitting again with the same settings returns it at once.
            progress: show progress bars.
        """
        index = {name: i for i, name in enumerate(label_names or sorted({u.emotion for u in train} - {""}))}
        labels = np.asarray([index.get(u.emotion, -1) for u in train], dtype=np.int64)
        dev_labels = np.asarray([index.get(u.emotion, -1) for u in dev], dtype=np.int64)
        if not (labels >= 0).any() or not (dev_labels >= 0).any():
            raise ValueError("fine-tuning needs labelled utterances in train and in dev")
        pairs, dev_pairs = self._pairs(train), self._pairs(dev)
        train_rows = np.flatnonzero(labels >= 0)
        torch.manual_seed(self.seed)
        self.head = torch.nn.Linear(self.dim, len(index)).to(self.device)
        optimizer = torch.optim.AdamW(list(self.encoder.parameters()) + list(self.head.parameters()),
                                      lr=self.lr, weight_decay=self.weight_decay)
        best_score, start = -1.0, 0
        last = os.path.join(state_dir, "last.pt") if state_dir else None
        if last and os.path.exists(last):
            state = torch.load(last, map_location=self.device, weights_only=True)
            if state["settings"] == json.dumps(self.settings(), sort_keys=True):
                if "encoder" in state:                  # (a finished fit keeps only its history)
                    self.encoder.load_state_dict(state["encoder"])
                    self.head.load_state_dict(state["head"])
                    optimizer.load_state_dict(state["optimizer"])
                self.history = json.loads(state["history"])
                best_score, start = state["best_score"], state["epoch"] + 1
                self.best_epoch = state["best_epoch"]
        for epoch in range(start, self.epochs):
            self.encoder.train()
            generator = torch.Generator().manual_seed(self.seed * 1000 + epoch)
            torch.manual_seed(self.seed * 1000 + epoch)
            order = train_rows[torch.randperm(len(train_rows), generator=generator).numpy()]
            total = 0.0
            batches = range(0, len(order), self.batch_size)
            for b in show_progress(batches, f"fine-tune epoch {epoch + 1}/{self.epochs}", progress, leave=False):
                rows = order[b:b + self.batch_size]
                logits = self.head(self._pooled([pairs[r] for r in rows]))
                loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels[rows]).to(self.device))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += loss.item() * len(rows)
            score = self._dev_f1(dev_pairs, dev_labels)
            self.history.append({"epoch": epoch + 1, "loss": total / len(order), "dev_weighted_f1": score})
            if score > best_score:
                best_score, self.best_epoch = score, epoch + 1
                if state_dir:
                    self.save(os.path.join(state_dir, "best"))
                else:
                    best = ({k: v.clone() for k, v in self.encoder.state_dict().items()},
                            {k: v.clone() for k, v in self.head.state_dict().items()})
            if state_dir:
                state = {"settings": json.dumps(self.settings(), sort_keys=True), "epoch": epoch,
                         "encoder": self.encoder.state_dict(), "head": self.head.state_dict(),
                         "optimizer": optimizer.state_dict(), "history": json.dumps(self.history),
                         "best_score": best_score, "best_epoch": self.best_epoch}
                atomic_write(last, lambda f: torch.save(state, f))
        if state_dir:
            kept = type(self).load(os.path.join(state_dir, "best"), self.device)
            self.encoder, self.head = kept.encoder, kept.head
            done = {"settings": json.dumps(self.settings(), sort_keys=True), "epoch": self.epochs - 1,
                    "history": json.dumps(self.history), "best_score": best_score, "best_epoch": self.best_epoch}
            atomic_write(last, lambda f: torch.save(done, f))     # the weights and optimizer are not needed now
        else:
            self.encoder.load_state_dict(best[0])
            self.head.load_state_dict(best[1])
        self.encoder.eval()
        return self

    @torch.no_grad()
    def _features(self, pairs: list[tuple[str, str]], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        self.encoder.eval()
        out = [self._pooled(pairs[b:b + batch_size]).float().cpu().numpy()
               for b in show_progress(range(0, len(pairs), batch_size), "text features", progress, leave=False)]
        return np.concatenate(out) if out else np.zeros((0, self.dim), np.float32)

    def transform(self, utterances: Sequence[Utterance], media_root: str = ".", progress: bool = False,
                  batch_size: int = 64) -> np.ndarray:
        """``[n, hidden_size]`` float32 pooled features of the (fine-tuned) encoder."""
        return self._features(self._pairs(utterances), batch_size, progress)

    def record(self) -> dict[str, Any]:
        return {"model": self.model, "context": self.context, "max_length": self.max_length, "pooling": "mean",
                "best_epoch": self.best_epoch, "history": self.history, "versions": versions("transformers", "torch")}

    @classmethod
    def from_record(cls, record, root, device="cpu") -> "ContextualTextEncoder":
        return cls.load(os.path.join(root, record["state"]), device)

    def save(self, path: str) -> str:
        """Write the encoder, tokenizer, head and settings to the folder ``path`` (atomically)."""
        def write(folder: str) -> None:
            self.encoder.save_pretrained(folder)
            self.tokenizer.save_pretrained(folder)
            if self.head is not None:
                torch.save(self.head.state_dict(), os.path.join(folder, HEAD_FILE))
            with open(os.path.join(folder, SETTINGS_FILE), "w") as f:
                json.dump({**self.settings(), "history": self.history, "best_epoch": self.best_epoch}, f, indent=1)
        atomic_folder(path, write)
        return os.path.basename(path)

    @classmethod
    def load(cls, path: str, device: str = "cpu") -> "ContextualTextEncoder":
        """An encoder written by :meth:`save` (``path`` a folder)."""
        settings_path = os.path.join(path, SETTINGS_FILE)
        if not os.path.exists(settings_path):
            raise FileNotFoundError(f"{path}: not a saved ContextualTextEncoder (no {SETTINGS_FILE})")
        with open(settings_path) as f:
            settings = json.load(f)
        encoder = cls.__new__(cls)
        for key in ("model", "context", "epochs", "lr", "batch_size", "max_length", "weight_decay", "seed"):
            setattr(encoder, key, settings[key])
        encoder.device, encoder.history, encoder.best_epoch = device, settings["history"], settings["best_epoch"]
        encoder._load_encoder(path)
        encoder.encoder.eval()
        encoder.head = None
        head = os.path.join(path, HEAD_FILE)
        if os.path.exists(head):
            weights = torch.load(head, map_location=device, weights_only=True)
            encoder.head = torch.nn.Linear(weights["weight"].shape[1], weights["weight"].shape[0]).to(device)
            encoder.head.load_state_dict(weights)
        return encoder
