"""Face features of an utterance's video: detect, crop and align the face in sampled frames,
describe each crop, average over the utterance.

- :class:`FaceAligner`: OpenCV's bundled Haar cascades (Viola & Jones, 2001):
  the largest frontal face, rotated so the eyes are level when both are found,
  cropped and resized to a square.
- Descriptors of a batch of crops: :class:`HOGDescriptor` and
  :class:`LBPDescriptor` (classical, no weights; scikit-image),
  :class:`PretrainedImageEncoder` (any Hugging Face image model) and
  :class:`TimmImageEncoder` (any timm model).
"""
from __future__ import annotations

import os

import numpy as np
import torch

from dialoggraph.extras import pretrained, require
from dialoggraph.features.media import load_frames


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


def _gray(crops: list[np.ndarray]) -> list[np.ndarray]:
    color = require("skimage.color", "video", "face descriptors")
    return [color.rgb2gray(c) for c in crops]


class HOGDescriptor:
    """Histograms of oriented gradients (Dalal & Triggs, 2005) of each grey crop, by scikit-image.

    Args:
        size: the crop side the descriptor is sized for.
        orientations, cell, block: ``skimage.feature.hog``'s bins, pixels per cell, cells per block.
    """

    def __init__(self, size: int = 64, orientations: int = 9, cell: int = 8, block: int = 2):
        self.feature = require("skimage.feature", "video", "HOG face descriptors")
        self.size, self.orientations, self.cell, self.block = size, orientations, cell, block
        self.dim = len(self([np.zeros((size, size, 3), np.uint8)])[0])

    def __call__(self, crops: list[np.ndarray]) -> np.ndarray:
        return np.stack([self.feature.hog(g, orientations=self.orientations, pixels_per_cell=(self.cell,) * 2,
                                          cells_per_block=(self.block,) * 2, feature_vector=True)
                         for g in _gray(crops)]).astype(np.float32)


class LBPDescriptor:
    """Uniform local binary patterns (Ojala et al., 2002) of each grey crop, histogrammed per cell
    of a ``grid x grid`` partition (Ahonen et al., 2006), by scikit-image.

    Args:
        points, radius: the LBP neighbourhood.
        grid: cells per side; the descriptor is ``grid * grid * (points + 2)``-d.
    """

    def __init__(self, points: int = 8, radius: float = 1.0, grid: int = 4):
        self.feature = require("skimage.feature", "video", "LBP face descriptors")
        self.points, self.radius, self.grid = points, radius, grid
        self.dim = grid * grid * (points + 2)

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


class PretrainedImageEncoder:
    """A Hugging Face image model (``AutoImageProcessor`` + ``AutoModel``; hub name or local folder):
    its pooled output, or its last hidden states averaged when it has none."""

    def __init__(self, model: str, device: str = "cpu"):
        transformers = require("transformers", "video", f"the image encoder {model}")
        self.model_name = model
        self.processor = pretrained(transformers.AutoImageProcessor.from_pretrained, model)
        self.model = pretrained(transformers.AutoModel.from_pretrained, model).to(device).eval()
        self.device = device
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


class TimmImageEncoder:
    """A timm model (``timm.create_model(name, num_classes=0)``): its pooled features.

    ``model`` is a timm model name (pretrained weights fetched by timm) or
    ``NAME@FILE`` with a local weights file (a state dict).
    """

    def __init__(self, model: str, device: str = "cpu"):
        timm = require("timm", "video", f"the timm model {model}")
        name, _, weights = model.partition("@")
        self.model_name = model
        self.model = timm.create_model(name, pretrained=not weights, num_classes=0)
        if weights:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            self.model.load_state_dict(state, strict=False)
        self.model = self.model.to(device).eval()
        self.device = device
        config = timm.data.resolve_data_config({}, model=self.model)
        self.transform = timm.data.create_transform(**config)
        self.dim = int(self.model.num_features)

    @torch.no_grad()
    def __call__(self, crops: list[np.ndarray]) -> np.ndarray:
        from PIL import Image
        batch = torch.stack([self.transform(Image.fromarray(c)) for c in crops]).to(self.device)
        return self.model(batch).float().cpu().numpy()


class VisualFeaturizer:
    """One utterance's video window -> the average descriptor of its face crops; ``None`` when
    no sampled frame shows a face (or the media has no video).

    Args:
        descriptor: a descriptor of a batch of crops (:class:`HOGDescriptor`, ...).
        fps: frames sampled per second of the window.
        max_frames: at most this many frames per utterance.
        face_size: side of the aligned crop.
    """

    def __init__(self, descriptor, fps: float = 2.0, max_frames: int = 16, face_size: int = 64):
        self.descriptor = descriptor
        self.aligner = FaceAligner(face_size)
        self.fps, self.max_frames = fps, max_frames
        self.dim = descriptor.dim

    def __call__(self, path: str, start: float | None, end: float | None) -> tuple[np.ndarray | None, bool]:
        """``(vector or None, cut)``: ``cut`` when the window ran past the end of the video."""
        frames = load_frames(path, start, end, self.fps, self.max_frames)
        crops = [c for c in map(self.aligner, frames.images) if c is not None]
        if not crops:
            return None, frames.cut
        return self.descriptor(crops).mean(0), frames.cut
