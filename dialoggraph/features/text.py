"""Text featurizers: utterance strings -> ``[n, d]`` float32 node features."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline

from dialoggraph.extras import require


class TfidfSVDFeaturizer:
    """TF-IDF over word uni/bi-grams, reduced by truncated SVD (latent semantic analysis).

    The built-in default: needs no download and no GPU. Fit it on the train
    split only, then transform every split.

    Args:
        dim: output size (SVD components; capped by the vocabulary size).
        min_df: ignore n-grams seen in fewer documents.
        seed: SVD's random state, so features are reproducible.
    """

    def __init__(self, dim: int = 256, min_df: int = 2, seed: int = 0):
        self.dim = dim
        self.min_df = min_df
        self.seed = seed
        self.pipeline = None

    def fit(self, texts: Sequence[str]) -> "TfidfSVDFeaturizer":
        tfidf = TfidfVectorizer(ngram_range=(1, 2), min_df=self.min_df, sublinear_tf=True,
                                strip_accents="unicode", lowercase=True)
        vocab = tfidf.fit(texts).vocabulary_
        dim = max(1, min(self.dim, len(vocab) - 1))
        self.pipeline = make_pipeline(tfidf, TruncatedSVD(dim, random_state=self.seed))
        self.pipeline.fit(texts)
        return self

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        if self.pipeline is None:
            raise RuntimeError("TfidfSVDFeaturizer.transform() called before fit()")
        return self.pipeline.transform(texts).astype(np.float32)


class SentenceTransformerFeaturizer:
    """Sentence embeddings from the optional ``sentence-transformers`` package.

    Install with ``pip install "dialoggraph[text]"``. The model is loaded by
    name through sentence-transformers (which may download it once).
    """

    def __init__(self, model_name: str = "sentence-transformers/all-MiniLM-L6-v2",
                 batch_size: int = 64, device: str | None = None):
        st = require("sentence_transformers", "text", "SentenceTransformerFeaturizer")
        self.model = st.SentenceTransformer(model_name, device=device)
        self.batch_size = batch_size

    def fit(self, texts: Sequence[str]) -> "SentenceTransformerFeaturizer":
        return self  # frozen encoder

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self.model.encode(list(texts), batch_size=self.batch_size,
                                            show_progress_bar=False), dtype=np.float32)
