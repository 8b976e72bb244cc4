"""Featurizers: raw conversations (transcripts, audio, video) -> node features.

``featurize`` turns a transcript table and its media into the folder format
(``dialoggraph featurize`` on the command line); the encoders it uses are
importable on their own.
"""
from dialoggraph.features.audio import AudioFeaturizer, OpenSmileFunctionals, PretrainedAudioEncoder
from dialoggraph.features.contextual import ContextualTextEncoder
from dialoggraph.features.pipeline import FeaturizeConfig, featurize, keep_featurizers, read_record
from dialoggraph.features.media import MediaError, load_audio, load_frames
from dialoggraph.features.text import SentenceTransformerFeaturizer, TfidfSVDFeaturizer
from dialoggraph.features.timing import parse_timestamp, timing_features
from dialoggraph.features.transcript import Utterance, read_transcript, write_transcript
from dialoggraph.features.visual import (FaceAligner, HOGDescriptor, LBPDescriptor, PretrainedImageEncoder,
                                         TimmImageEncoder, VisualFeaturizer)

__all__ = ["featurize", "FeaturizeConfig", "keep_featurizers", "read_record", "Utterance", "read_transcript",
           "write_transcript", "TfidfSVDFeaturizer", "SentenceTransformerFeaturizer", "ContextualTextEncoder",
           "OpenSmileFunctionals", "PretrainedAudioEncoder", "AudioFeaturizer", "FaceAligner", "HOGDescriptor",
           "LBPDescriptor", "PretrainedImageEncoder", "TimmImageEncoder", "VisualFeaturizer", "MediaError",
           "load_audio", "load_frames", "timing_features", "parse_timestamp"]
