"""What makes each modality: the option values of ``dialoggraph featurize`` and the encoders they name.

========  ==============================================================  =========
modality  values                                                          extra
========  ==============================================================  =========
text      ``tfidf`` (default), ``sbert:MODEL``, ``finetune:MODEL``, ``none``  ``text``
audio     ``egemaps``, ``compare``, ``hf:MODEL``                          ``audio``
visual    ``hog``, ``lbp``, ``hf:MODEL``, ``timm:MODEL``                  ``video``
========  ==============================================================  =========

``MODEL`` is a hub name or a local path. Each spec's record (written to
``featurizers.json``) says exactly what made the features: the spec, the
encoder's settings, the library versions.
"""
from __future__ import annotations

import importlib.metadata
import os
from typing import Any

from dialoggraph.features.audio import AudioFeaturizer, OpenSmileFunctionals, PretrainedAudioEncoder
from dialoggraph.features.visual import (HOGDescriptor, LBPDescriptor, PretrainedImageEncoder, TimmImageEncoder,
                                         VisualFeaturizer)

#: For each modality: the kinds, and whether a kind takes ``:MODEL``.
KINDS: dict[str, dict[str, bool]] = {
    "text": {"tfidf": False, "sbert": True, "finetune": True, "none": False},
    "audio": {"egemaps": False, "compare": False, "hf": True},
    "visual": {"hog": False, "lbp": False, "hf": True, "timm": True},
}

OPENSMILE_SETS = {"egemaps": "eGeMAPSv02", "compare": "ComParE_2016"}


def _values(modality: str) -> str:
    return ", ".join(k + (":MODEL" if takes else "") for k, takes in KINDS[modality].items())


def parse_spec(modality: str, spec: str) -> tuple[str, str | None]:
    """``"finetune:roberta-base"`` -> ``("finetune", "roberta-base")``; ``ValueError`` naming the
    accepted values when ``spec`` is not one of them."""
    kind, colon, model = spec.partition(":")
    takes = KINDS[modality].get(kind)
    if takes is None or takes != bool(colon) or (takes and not model.strip()):
        raise ValueError(f"--{modality} {spec!r}: expected one of {_values(modality)}")
    return kind, (model.strip() if takes else None)


def model_source(model: str) -> str:
    """A model named by path as an absolute path (so a record works from any folder); a hub name as is."""
    path = model.partition("@")[2] or model
    if os.path.exists(path):
        return model.replace(path, os.path.abspath(path)) if "@" in model else os.path.abspath(model)
    return model


def versions(*packages: str) -> dict[str, str]:
    """Installed versions of ``packages`` (for the records)."""
    out = {}
    for package in packages:
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def media_featurizer(modality: str, spec: str, options: dict[str, Any], device: str = "cpu"):
    """The :class:`AudioFeaturizer` / :class:`VisualFeaturizer` a spec names.

    ``options``: ``fps``, ``max_frames``, ``face_size`` (visual).
    """
    kind, model = parse_spec(modality, spec)
    if modality == "audio":
        if kind == "hf":
            return AudioFeaturizer(PretrainedAudioEncoder(model, device))
        return AudioFeaturizer(OpenSmileFunctionals(OPENSMILE_SETS[kind]))
    size = options["face_size"]
    descriptor = {"hog": lambda: HOGDescriptor(size), "lbp": lambda: LBPDescriptor(),
                  "hf": lambda: PretrainedImageEncoder(model, device),
                  "timm": lambda: TimmImageEncoder(model, device)}[kind]()
    return VisualFeaturizer(descriptor, options["fps"], options["max_frames"], size)


def media_record(modality: str, spec: str, featurizer, options: dict[str, Any]) -> dict[str, Any]:
    """The ``featurizers.json`` entry of a media modality: what made it, with which settings."""
    kind, model = parse_spec(modality, spec)
    record: dict[str, Any] = {"spec": spec, "kind": kind, "dim": int(featurizer.dim)}
    if model:
        record["model"] = model
    if modality == "audio":
        record["sample_rate"] = int(featurizer.encoder.sample_rate)
        if kind in OPENSMILE_SETS:
            record["feature_set"] = OPENSMILE_SETS[kind]
        record["versions"] = versions(*(("transformers", "torch") if kind == "hf" else ("opensmile",)))
    else:
        record.update({k: options[k] for k in ("fps", "max_frames", "face_size")})
        record["face_detector"] = "OpenCV Haar cascades frontalface_default + eye"
        record["versions"] = versions("opencv-python-headless", *{"hog": ("scikit-image",), "lbp": ("scikit-image",),
                                                                  "hf": ("transformers", "torch"),
                                                                  "timm": ("timm", "torch")}[kind])
    return record
