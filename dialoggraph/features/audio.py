"""Audio encoders: one utterance's samples -> a ``[d]`` float32 vector.

- :class:`OpenSmileFunctionals`: openSMILE's utterance-level functionals through
  the ``opensmile`` package: eGeMAPSv02 (88-d, the default) or ComParE_2016 (6373-d).
- :class:`PretrainedAudioEncoder`: any Hugging Face audio encoder (wav2vec 2.0,
  HuBERT, data2vec-audio, ...), its last hidden states averaged over time.

Both are :class:`AudioFeaturizer` s: ``featurizer(samples, sample_rate) -> vector``, and the
base class decodes an utterance's window (``dialoggraph.features.media``). A new audio
featurizer is a subclass with ``sample_rate``, ``dim`` and ``__call__`` (and the featurizer
contract's ``from_spec`` / ``record`` / ``from_record``), registered with
:func:`~dialoggraph.features.register_featurizer`.
"""
from __future__ import annotations

import abc
from typing import Any

import numpy as np
import torch

from dialoggraph.extras import pretrained, require
from dialoggraph.features.base import MediaFeaturizer, register_featurizer, versions
from dialoggraph.features.media import load_audio

# Shorter windows count as "no audio": openSMILE's functionals need about 0.1 s of frames.
MIN_SECONDS = 0.1


class AudioFeaturizer(MediaFeaturizer):
    """An utterance's audio -> a vector; ``None`` when there is no audio.

    No audio: the window holds less than ``MIN_SECONDS`` of sound (it starts
    past the end of the file, or the video has no audio track), or the encoder
    gives non-finite values. Subclasses give ``sample_rate`` (what the window is
    decoded at), ``dim`` and ``__call__(samples, sample_rate) -> [dim]``.
    """

    modality = "audio"
    extra = "audio"
    sample_rate: int

    @abc.abstractmethod
    def __call__(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        """``[dim]`` float32 of mono samples."""

    def encode(self, path: str, start: float | None, end: float | None) -> tuple[np.ndarray | None, bool]:
        audio = load_audio(path, start, end, self.sample_rate)
        if len(audio.samples) < MIN_SECONDS * audio.sample_rate:
            return None, audio.cut
        vector = self(audio.samples, audio.sample_rate)
        return (vector if np.isfinite(vector).all() else None), audio.cut


@register_featurizer
class OpenSmileFunctionals(AudioFeaturizer):
    """openSMILE functionals of a whole utterance (Eyben et al., 2016; Schuller et al., 2016):
    ``--audio egemaps`` / ``--audio compare``.

    Args:
        feature_set: ``"eGeMAPSv02"`` (88 features) or ``"ComParE_2016"`` (6373).
    """

    FEATURE_SETS = ("eGeMAPSv02", "ComParE_2016")
    KINDS = {"egemaps": "eGeMAPSv02", "compare": "ComParE_2016"}
    kinds = tuple(KINDS)
    sample_rate = 16000

    def __init__(self, feature_set: str = "eGeMAPSv02"):
        if feature_set not in self.FEATURE_SETS:
            raise ValueError(f"feature_set must be one of {', '.join(self.FEATURE_SETS)}, got {feature_set!r}")
        opensmile = require("opensmile", "audio", f"openSMILE's {feature_set}")
        self.feature_set = feature_set
        self.smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, feature_set),
                                     feature_level=opensmile.FeatureLevel.Functionals)
        self.dim = len(self.smile.feature_names)
        self.version = opensmile.__version__

    @classmethod
    def from_spec(cls, kind, model, config) -> "OpenSmileFunctionals":
        return cls(cls.KINDS[kind])

    def __call__(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        return self.smile.process_signal(samples, sample_rate).to_numpy()[0].astype(np.float32)

    def record(self) -> dict[str, Any]:
        return {"feature_set": self.feature_set, "sample_rate": self.sample_rate, "versions": versions("opensmile")}

    @classmethod
    def from_record(cls, record, root, device="cpu") -> "OpenSmileFunctionals":
        return cls(record["feature_set"])


@register_featurizer
class PretrainedAudioEncoder(AudioFeaturizer):
    """A Hugging Face audio encoder's last hidden states, averaged over time (``--audio hf:MODEL``).

    Args:
        model: a hub name or a local folder (``AutoFeatureExtractor`` + ``AutoModel``),
            e.g. wav2vec 2.0, HuBERT or data2vec-audio.
        device: where it runs.
    """

    kinds = ("hf",)
    takes_model = True

    def __init__(self, model: str, device: str = "cpu"):
        transformers = require("transformers", "audio", f"the audio encoder {model}")
        self.model_name = model
        self.extractor = pretrained(transformers.AutoFeatureExtractor.from_pretrained, model)
        self.model = pretrained(transformers.AutoModel.from_pretrained, model).to(device).eval()
        self.device = device
        self.sample_rate = int(self.extractor.sampling_rate)
        self.dim = int(self.model.config.hidden_size)

    @torch.no_grad()
    def __call__(self, samples: np.ndarray, sample_rate: int) -> np.ndarray:
        inputs = self.extractor(samples, sampling_rate=sample_rate, return_tensors="pt").to(self.device)
        return self.model(**inputs).last_hidden_state[0].mean(0).float().cpu().numpy()

    @classmethod
    def from_spec(cls, kind, model, config) -> "PretrainedAudioEncoder":
        return cls(model, config.device)

    def record(self) -> dict[str, Any]:
        return {"model": self.model_name, "sample_rate": self.sample_rate, "versions": versions("transformers", "torch")}

    @classmethod
    def from_record(cls, record, root, device="cpu") -> "PretrainedAudioEncoder":
        return cls(record["model"], device)
