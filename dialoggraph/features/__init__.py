"""Featurizers: raw conversations (transcripts, audio, video) -> node features.

``featurize`` turns a transcript table and its media into the folder format
(``dialoggraph featurize`` on the command line). Every featurizer follows one contract
(:class:`Featurizer`: ``fit`` / ``transform`` / ``record`` / ``from_record``) and is named by a
spec (``tfidf``, ``sbert:MODEL``, ``egemaps``, ``hog`` ...) through the registry
(:func:`register_featurizer`, :func:`make_featurizer`, :func:`load_featurizer`).
"""
from dialoggraph.features.base import (FEATURIZERS, Featurizer, MediaFeaturizer, TextFeaturizer, load_featurizer,
                                       make_featurizer, parse_spec, register_featurizer)
from dialoggraph.features.text import SentenceTransformerFeaturizer, TfidfSVDFeaturizer
from dialoggraph.features.audio import AudioFeaturizer, OpenSmileFunctionals, PretrainedAudioEncoder
from dialoggraph.features.contextual import ContextualTextEncoder
from dialoggraph.features.pipeline import FeaturizeConfig, featurize, keep_featurizers, read_record
from dialoggraph.features.media import MediaError, load_audio, load_frames
from dialoggraph.features.timing import parse_timestamp, timing_features
from dialoggraph.features.transcript import Utterance, read_transcript, write_transcript
from dialoggraph.features.visual import (FaceAligner, HOGDescriptor, LBPDescriptor, PretrainedImageEncoder,
                                         TimmImageEncoder, VisualFeaturizer)

__all__ = ["Featurizer", "TextFeaturizer", "MediaFeaturizer", "FEATURIZERS", "register_featurizer", "make_featurizer",
           "load_featurizer", "parse_spec", "featurize", "FeaturizeConfig", "keep_featurizers", "read_record", "Utterance", "read_transcript",
           "write_transcript", "TfidfSVDFeaturizer", "SentenceTransformerFeaturizer", "ContextualTextEncoder",
           "OpenSmileFunctionals", "PretrainedAudioEncoder", "AudioFeaturizer", "FaceAligner", "HOGDescriptor",
           "LBPDescriptor", "PretrainedImageEncoder", "TimmImageEncoder", "VisualFeaturizer", "MediaError",
           "load_audio", "load_frames", "timing_features", "parse_timestamp"]
