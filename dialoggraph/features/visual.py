"""Face features of an utterance's video: detect, crop and align the face in sampled frames,
describe each crop, average over the utterance.

- :class:`FaceAligner`: OpenCV's bundled Haar cascades (Viola & Jones, 2001):
  the largest frontal face, rotated so the eyes are level when both are found,
  cropped and resized to a square.
- :class:`VisualFeaturizer`: the base of the face featurizers, each a descriptor of a batch
  of crops: :class:`HOGDescriptor` (``--visual hog``) and :class:`LBPDescriptor` (``lbp``)
  (classical, no weights; scikit-image), :class:`PretrainedImageEncoder` (``hf:MODEL``, any
  Hugging Face image model) and :class:`TimmImageEncoder` (``timm:MODEL``, any timm model).

A new face featurizer is a subclass with ``dim`` and ``__call__(crops) -> [n_crops, dim]``
(and the featurizer contract's ``from_spec`` / ``record`` / ``from_record``), registered with
:func:`~dialoggraph.features.register_featurizer`.
"""
from __future__ import annotations

import abc
import os
from typing import Any

import numpy as np
import torch

from dialoggraph.extras import pretrained, require
from dialoggraph.features.base import MediaFeaturizer, register_featurizer, versions
from dialoggraph.features.media import load_frames
from dialoggraph.features.transcript import Utterance


class FaceAligner:
    """The largest frontal face of an RGB frame, eye-aligned, as a ``[size, size, 3]`` uint8 crop.

    The frame is rotated about the face's centre by the angle of the line
    through the eye centres (the largest eye detection in each half of the
    face's upper 60%), so the eyes are level, then the face box is cropped.

    Args:
        size: side of the square crop.
        min_face: smallest face side searched, as a fraction of the frame's shorter side.
    """

    def __init__(self, size: int = 64, min_face: float = 0.1):
        self.cv2 = require("cv2", "video", "face detection")
        folder = self.cv2.data.haarcascades
        self.faces = self.cv2.CascadeClassifier(os.path.join(folder, "haarcascade_frontalface_default.xml"))
        self.eyes = self.cv2.CascadeClassifier(os.path.join(folder, "haarcascade_eye.xml"))
        if self.faces.empty() or self.eyes.empty():
            raise RuntimeError(f"OpenCV's Haar cascades are missing from {folder} (install opencv-python-headless<5)")
        self.size = size
        self.min_face = min_face

    def __call__(self, image: np.ndarray) -> np.ndarray | None:
        cv2 = self.cv2
        gray = cv2.equalizeHist(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
        side = max(24, int(self.min_face * min(gray.shape)))
        found = self.faces.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=5, minSize=(side, side))
        if len(found) == 0:
            return None
        x, y, w, h = max(found, key=lambda box: box[2] * box[3])
        center = (x + w / 2.0, y + h / 2.0)
        eyes = self.eyes.detectMultiScale(gray[y:y + int(0.6 * h), x:x + w], scaleFactor=1.05, minNeighbors=4,
                                          minSize=(max(1, w // 8),) * 2)
        centers = [(ex + ew / 2.0, ey + eh / 2.0) for ex, ey, ew, eh in sorted(eyes, key=lambda e: -e[2] * e[3])]
        left = [c for c in centers if c[0] < w / 2]
        right = [c for c in centers if c[0] >= w / 2]
        angle = 0.0
        if left and right:                     # the largest detection on each side of the face
            (lx, ly), (rx, ry) = left[0], right[0]
            angle = float(np.degrees(np.arctan2(ry - ly, rx - lx)))
        rotation = cv2.getRotationMatrix2D(center, angle, 1.0)
        aligned = cv2.warpAffine(image, rotation, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
        crop = aligned[max(0, y):y + h, max(0, x):x + w]
        return cv2.resize(crop, (self.size, self.size), interpolation=cv2.INTER_AREA)



class VisualFeaturizer(MediaFeaturizer):
    """One utterance's video window -> the average descriptor of its face crops; ``None`` when
    no sampled frame shows a face (or the media has no video).

    Args:
        fps: frames sampled per second of the window.
        max_frames: at most this many frames per utterance.
        face_size: side of the aligned crop.
    """

    modality = "visual"
    extra = "video"
    FACE_DETECTOR = "OpenCV Haar cascades frontalface_default + eye"

    def __init__(self, fps: float = 2.0, max_frames: int = 16, face_size: int = 64):
        self.aligner = FaceAligner(face_size)
        self.fps, self.max_frames, self.face_size = fps, max_frames, face_size

    @abc.abstractmethod
    def __call__(self, crops: list[np.ndarray]) -> np.ndarray:
        """``[len(crops), dim]`` float32 descriptors of ``[face_size, face_size, 3]`` uint8 crops."""

    def wants(self, utterance: Utterance) -> bool:
        return bool(utterance.media) and utterance.is_video

    def encode(self, path: str, start: float | None, end: float | None) -> tuple[np.ndarray | None, bool]:
        frames = load_frames(path, start, end, self.fps, self.max_frames)
        crops = [c for c in map(self.aligner, frames.images) if c is not None]
        if not crops:
            return None, frames.cut
        return self(crops).mean(0), frames.cut

    def sampling(self) -> dict[str, Any]:
        """The frame sampling and crop settings (part of the record)."""
        return {"fps": self.fps, "max_frames": self.max_frames, "face_size": self.face_size,
                "face_detector": self.FACE_DETECTOR}


def _gray(crops: list[np.ndarray]) -> list[np.ndarray]:
    color = require("skimage.color", "video", "face descriptors")
    return [color.rgb2gray(c) for c in crops]


@register_featurizer
class HOGDescriptor(VisualFeaturizer):
    """Histograms of oriented gradients (Dalal & Triggs, 2005) of each grey crop, by scikit-image.

    Args:
        face_size: the crop side the descriptor is sized for.
        orientations, cell, block: ``skimage.feature.hog``'s bins, pixels per cell, cells per block.
        fps, max_frames: as :class:`VisualFeaturizer`.
    """

    kinds = ("hog",)

    def __init__(self, face_size: int = 64, orientations: int = 9, cell: int = 8, block: int = 2,
                 fps: float = 2.0, max_frames: int = 16):
        super().__init__(fps, max_frames, face_size)
        self.feature = require("skimage.feature", "video", "HOG face descriptors")
        self.orientations, self.cell, self.block = orientations, cell, block
        self.dim = len(self([np.zeros((face_size, face_size, 3), np.uint8)])[0])

    @classmethod
    def from_spec(cls, kind, model, config) -> "HOGDescriptor":
        return cls(config.face_size, fps=config.fps, max_frames=config.max_frames)

    def record(self) -> dict[str, Any]:
        return {**self.sampling(), "orientations": self.orientations, "cell": self.cell, "block": self.block,
                "versions": versions("opencv-python-headless", "scikit-image")}

    @classmethod
    def from_record(cls, record, root, device="cpu") -> "HOGDescriptor":
        return cls(record["face_size"], record.get("orientations", 9), record.get("cell", 8), record.get("block", 2),
                   record["fps"], record["max_frames"])

    def __call__(self, crops: list[np.ndarray]) -> np.ndarray:
        return np.stack([self.feature.hog(g, orientations=self.orientations, pixels_per_cell=(self.cell,) * 2,
                                          cells_per_block=(self.block,) * 2, feature_vector=True)
                         for g in _gray(crops)]).astype(np.float32)


@register_featurizer
class LBPDescriptor(VisualFeaturizer):
    """Uniform local binary patterns (Ojala et al., 2002) of each grey crop, histogrammed per cell
    of a ``grid x grid`` partition (Ahonen et al., 2006), by scikit-image.

    Args:
        points, radius: the LBP neighbourhood.
        grid: cells per side; the descriptor is ``grid * grid * (points + 2)``-d.
        fps, max_frames, face_size: as :class:`VisualFeaturizer`.
    """

    kinds = ("lbp",)

    def __init__(self, points: int = 8, radius: float = 1.0, grid: int = 4, fps: float = 2.0,
                 max_frames: int = 16, face_size: int = 64):
        super().__init__(fps, max_frames, face_size)
        self.feature = require("skimage.feature", "video", "LBP face descriptors")
        self.points, self.radius, self.grid = points, radius, grid
        self.dim = grid * grid * (points + 2)

    @classmethod
    def from_spec(cls, kind, model, config) -> "LBPDescriptor":
        return cls(**config.media_options())

    def record(self) -> dict[str, Any]:
        return {**self.sampling(), "points": self.points, "radius": self.radius, "grid": self.grid,
                "versions": versions("opencv-python-headless", "scikit-image")}

    @classmethod
    def from_record(cls, record, root, device="cpu") -> "LBPDescriptor":
        return cls(record.get("points", 8), record.get("radius", 1.0), record.get("grid", 4), record["fps"],
                   record["max_frames"], record["face_size"])

    def __call__(self, crops: list[np.ndarray]) -> np.ndarray:
        out = []
        bins = self.points + 2
        for gray in _gray(crops):
            codes = self.feature.local_binary_pattern((gray * 255).astype(np.uint8), self.points, self.radius,
                                                      method="uniform")
            cells = [cell for rows in np.array_split(codes, self.grid, axis=0)
                     for cell in np.array_split(rows, self.grid, axis=1)]
            out.append(np.concatenate([np.bincount(c.astype(np.int64).ravel(), minlength=bins)[:bins] / c.size
                                       for c in cells]))
        return np.stack(out).astype(np.float32)


class LearnedImageEncoder(VisualFeaturizer):
    """The base of the learned face encoders (``KIND:MODEL``): built from the model's name, the
    device and the frame sampling."""

    takes_model = True
    packages: tuple[str, ...] = ("torch",)

    def __init__(self, model: str, device: str = "cpu", fps: float = 2.0, max_frames: int = 16,
                 face_size: int = 64):
        super().__init__(fps, max_frames, face_size)
        self.model_name, self.device = model, device

    @classmethod
    def from_spec(cls, kind, model, config) -> "LearnedImageEncoder":
        return cls(model, config.device, **config.media_options())

    def record(self) -> dict[str, Any]:
        return {**self.sampling(), "model": self.model_name,
                "versions": versions("opencv-python-headless", *self.packages)}

    @classmethod
    def from_record(cls, record, root, device="cpu") -> "LearnedImageEncoder":
        return cls(record["model"], device, record["fps"], record["max_frames"], record["face_size"])


@register_featurizer
class PretrainedImageEncoder(LearnedImageEncoder):
    """A Hugging Face image model (``AutoImageProcessor`` + ``AutoModel``; hub name or local folder):
    its pooled output, or its last hidden states averaged when it has none.

    Args:
        model: the hub name or folder.
        device: where it runs.
        fps, max_frames, face_size: as :class:`VisualFeaturizer`.
    """

    kinds = ("hf",)
    packages = ("transformers", "torch")

    def __init__(self, model: str, device: str = "cpu", fps: float = 2.0, max_frames: int = 16,
                 face_size: int = 64):
        super().__init__(model, device, fps, max_frames, face_size)
        transformers = require("transformers", "video", f"the image encoder {model}")
        self.processor = pretrained(transformers.AutoImageProcessor.from_pretrained, model)
        self.model = pretrained(transformers.AutoModel.from_pretrained, model).to(device).eval()
        config = self.model.config
        self.dim = int(getattr(config, "hidden_size", None) or config.hidden_sizes[-1])

    @torch.no_grad()
    def __call__(self, crops: list[np.ndarray]) -> np.ndarray:
        inputs = self.processor(images=list(crops), return_tensors="pt").to(self.device)
        out = self.model(**inputs)
        pooled = getattr(out, "pooler_output", None)
        if pooled is None:
            pooled = out.last_hidden_state.mean(1)
        return pooled.reshape(len(crops), -1).float().cpu().numpy()


@register_featurizer
class TimmImageEncoder(LearnedImageEncoder):
    """A timm model (``timm.create_model(name, num_classes=0)``): its pooled features.

    Args:
        model: a timm model name (pretrained weights fetched by timm) or ``NAME@FILE`` with a
            local weights file (a state dict).
        device: where it runs.
        fps, max_frames, face_size: as :class:`VisualFeaturizer`.
    """

    kinds = ("timm",)
    packages = ("timm", "torch")

    def __init__(self, model: str, device: str = "cpu", fps: float = 2.0, max_frames: int = 16,
                 face_size: int = 64):
        super().__init__(model, device, fps, max_frames, face_size)
        timm = require("timm", "video", f"the timm model {model}")
        name, _, weights = model.partition("@")
        self.model = timm.create_model(name, pretrained=not weights, num_classes=0)
        if weights:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            self.model.load_state_dict(state, strict=False)
        self.model = self.model.to(device).eval()
        config = timm.data.resolve_data_config({}, model=self.model)
        self.preprocess = timm.data.create_transform(**config)
        self.dim = int(self.model.num_features)

    @torch.no_grad()
    def __call__(self, crops: list[np.ndarray]) -> np.ndarray:
        from PIL import Image
        batch = torch.stack([self.preprocess(Image.fromarray(c)) for c in crops]).to(self.device)
        return self.model(batch).float().cpu().numpy()
