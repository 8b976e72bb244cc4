"""Text featurizers: utterances -> ``[n, d]`` float32 node features.

- :class:`TfidfSVDFeaturizer` (``--text tfidf``): TF-IDF + truncated SVD, fitted on train (no download).
- :class:`SentenceTransformerFeaturizer` (``--text sbert:MODEL``): a frozen sentence-transformers model.

The fine-tuned contextual encoder (``--text finetune:MODEL``) is
:class:`dialoggraph.features.ContextualTextEncoder`. Both classes here also take plain strings
where they take utterances.
"""
from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from dialoggraph.extras import pretrained, require
from dialoggraph.features.base import TextFeaturizer, register_featurizer, versions
from dialoggraph.features.transcript import Utterance


def texts_of(utterances: Sequence[Utterance | str]) -> list[str]:
    """The text of each utterance (a string stands for itself)."""
    return [u if isinstance(u, str) else u.text for u in utterances]


def _vectorizer(min_df: int = 1, vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True,
                           strip_accents="unicode", lowercase=True, vocabulary=vocabulary)


@register_featurizer
class TfidfSVDFeaturizer(TextFeaturizer):
    """TF-IDF over word uni/bi-grams, reduced by truncated SVD (latent semantic analysis).

    The built-in default: needs no download and no GPU. Fit it on the train
    split only, then transform every split. :meth:`save` / :meth:`load` keep
    the fitted state (vocabulary, idf weights, SVD components) in an ``.npz``
    file, so the same features are made at prediction time.

    Args:
        dim: output size (SVD components; capped by the vocabulary size).
        min_df: ignore n-grams seen in fewer documents (lowered to 1 when it would leave none).
        seed: SVD's random state, so features are reproducible.
    """

    kinds = ("tfidf",)

    def __init__(self, dim: int = 256, min_df: int = 2, seed: int = 0):
        self.size = dim                 # asked for; ``dim`` is what the vocabulary allows after fit
        self.dim = dim
        self.min_df = min_df
        self.seed = seed
        self.vectorizer: TfidfVectorizer | None = None
        self.components: np.ndarray | None = None     # [dim, vocabulary]

    @classmethod
    def from_spec(cls, kind, model, config) -> "TfidfSVDFeaturizer":
        return cls(config.tfidf_dim, seed=config.seed)

    def fit(self, train: Sequence[Utterance | str], dev=(), label_names=(), state_dir=None,
            progress=False) -> "TfidfSVDFeaturizer":
        texts = texts_of(train)
        self.vectorizer = _vectorizer(self.min_df)
        try:
            counts = self.vectorizer.fit_transform(texts)
        except ValueError:                  # a corpus so small that min_df leaves no n-gram: keep them all
            self.vectorizer = _vectorizer(1)
            counts = self.vectorizer.fit_transform(texts)
        dim = max(1, min(self.size, counts.shape[1] - 1))
        self.components = TruncatedSVD(dim, random_state=self.seed).fit(counts).components_
        self.dim = int(self.components.shape[0])          # SVD gives at most as many as there are texts
        return self

    def transform(self, utterances: Sequence[Utterance | str], media_root: str = ".",
                  progress: bool = False) -> np.ndarray:
        if self.vectorizer is None:
            raise RuntimeError("TfidfSVDFeaturizer.transform() called before fit()")
        return np.asarray(self.vectorizer.transform(texts_of(utterances)) @ self.components.T, dtype=np.float32)

    def record(self) -> dict[str, Any]:
        return {"ngrams": [1, 2], "min_df": self.min_df, "seed": self.seed, "versions": versions("scikit-learn")}

    def save(self, path: str) -> str:
        """Write the fitted state to ``path + ".npz"`` (the caller makes the write atomic)."""
        path = path if path.endswith(".npz") else path + ".npz"
        vocabulary = self.vectorizer.vocabulary_
        terms = np.empty(len(vocabulary), dtype=object)
        for term, column in vocabulary.items():
            terms[column] = term
        np.savez(path, terms=terms.astype(str), idf=self.vectorizer.idf_, components=self.components,
                 settings=np.asarray([self.size, self.min_df, self.seed]))
        return os.path.basename(path)

    @classmethod
    def load(cls, path: str) -> "TfidfSVDFeaturizer":
        """The featurizer :meth:`save` wrote to ``path``."""
        with np.load(path, allow_pickle=False) as state:
            dim, min_df, seed = (int(v) for v in state["settings"])
            featurizer = cls(dim, min_df, seed)
            featurizer.vectorizer = _vectorizer(vocabulary={str(t): i for i, t in enumerate(state["terms"])})
            featurizer.vectorizer.idf_ = state["idf"]
            featurizer.components = state["components"]
            featurizer.dim = int(featurizer.components.shape[0])
        return featurizer

    @classmethod
    def from_record(cls, record, root, device="cpu") -> "TfidfSVDFeaturizer":
        return cls.load(os.path.join(root, record["state"]))


@register_featurizer
class SentenceTransformerFeaturizer(TextFeaturizer):
    """Sentence embeddings from the optional ``sentence-transformers`` package (frozen: nothing is fitted).

    Install with ``pip install "dialoggraph[text]"``. ``model_name`` is a hub
    name (downloaded once by sentence-transformers) or a local folder written by
    ``SentenceTransformer.save``.
    """

    kinds = ("sbert",)
    takes_model = True
    extra = "text"

    def __init__(self, model_name: str = "sentence-transformers/all-MiniLM-L6-v2",
                 batch_size: int = 64, device: str | None = None):
        st = require("sentence_transformers", "text", "SentenceTransformerFeaturizer")
        self.model_name = model_name
        self.model = pretrained(lambda name: st.SentenceTransformer(name, device=device), model_name)
        self.batch_size = batch_size
        width = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(width())

    @classmethod
    def from_spec(cls, kind, model, config) -> "SentenceTransformerFeaturizer":
        return cls(model, device=config.device)

    def transform(self, utterances: Sequence[Utterance | str], media_root: str = ".",
                  progress: bool = False) -> np.ndarray:
        return np.asarray(self.model.encode(texts_of(utterances), batch_size=self.batch_size,
                                            show_progress_bar=progress), dtype=np.float32)

    def record(self) -> dict[str, Any]:
        return {"model": self.model_name, "versions": versions("sentence-transformers", "torch")}

    @classmethod
    def from_record(cls, record, root, device="cpu") -> "SentenceTransformerFeaturizer":
        return cls(record["model"], device=device)
