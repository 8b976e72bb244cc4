"""Text featurizers: utterance strings -> ``[n, d]`` float32 node features.

- :class:`TfidfSVDFeaturizer`: TF-IDF + truncated SVD, fitted on train (no download).
- :class:`SentenceTransformerFeaturizer`: a frozen sentence-transformers model.

The fine-tuned contextual encoder is :class:`dialoggraph.features.ContextualTextEncoder`.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer

from dialoggraph.extras import pretrained, require


def _vectorizer(min_df: int = 1, vocabulary: dict[str, int] | None = None) -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True,
                           strip_accents="unicode", lowercase=True, vocabulary=vocabulary)


class TfidfSVDFeaturizer:
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

    def __init__(self, dim: int = 256, min_df: int = 2, seed: int = 0):
        self.dim = dim
        self.min_df = min_df
        self.seed = seed
        self.vectorizer: TfidfVectorizer | None = None
        self.components: np.ndarray | None = None     # [dim, vocabulary]

    def fit(self, texts: Sequence[str]) -> "TfidfSVDFeaturizer":
        self.vectorizer = _vectorizer(self.min_df)
        try:
            counts = self.vectorizer.fit_transform(texts)
        except ValueError:                  # a corpus so small that min_df leaves no n-gram: keep them all
            self.vectorizer = _vectorizer(1)
            counts = self.vectorizer.fit_transform(texts)
        dim = max(1, min(self.dim, counts.shape[1] - 1))
        self.components = TruncatedSVD(dim, random_state=self.seed).fit(counts).components_
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        if self.vectorizer is None:
            raise RuntimeError("TfidfSVDFeaturizer.transform() called before fit()")
        return np.asarray(self.vectorizer.transform(texts) @ self.components.T, dtype=np.float32)

    def save(self, path: str) -> None:
        """Write the fitted state to ``path`` (an ``.npz``; the caller makes the write atomic)."""
        vocabulary = self.vectorizer.vocabulary_
        terms = np.empty(len(vocabulary), dtype=object)
        for term, column in vocabulary.items():
            terms[column] = term
        np.savez(path, terms=terms.astype(str), idf=self.vectorizer.idf_, components=self.components,
                 settings=np.asarray([self.dim, self.min_df, self.seed]))

    @classmethod
    def load(cls, path: str) -> "TfidfSVDFeaturizer":
        with np.load(path, allow_pickle=False) as state:
            dim, min_df, seed = (int(v) for v in state["settings"])
            featurizer = cls(dim, min_df, seed)
            featurizer.vectorizer = _vectorizer(vocabulary={str(t): i for i, t in enumerate(state["terms"])})
            featurizer.vectorizer.idf_ = state["idf"]
            featurizer.components = state["components"]
        return featurizer


class SentenceTransformerFeaturizer:
    """Sentence embeddings from the optional ``sentence-transformers`` package.

    Install with ``pip install "dialoggraph[text]"``. ``model_name`` is a hub
    name (downloaded once by sentence-transformers) or a local folder written by
    ``SentenceTransformer.save``.
    """

    def __init__(self, model_name: str = "sentence-transformers/all-MiniLM-L6-v2",
                 batch_size: int = 64, device: str | None = None):
        st = require("sentence_transformers", "text", "SentenceTransformerFeaturizer")
        self.model = pretrained(lambda name: st.SentenceTransformer(name, device=device), model_name)
        self.batch_size = batch_size

    @property
    def dim(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def fit(self, texts: Sequence[str]) -> "SentenceTransformerFeaturizer":
        return self  # frozen encoder

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), batch_size=self.batch_size,
                                            show_progress_bar=False), dtype=np.float32)
