"""A missing optional package is one line naming the extra that installs it."""
import sys

import pytest

from dialoggraph.cli import main
from dialoggraph.extras import MissingExtraError
from dialoggraph.features import ContextualTextEncoder, FaceAligner, OpenSmileFunctionals, SentenceTransformerFeaturizer


@pytest.mark.parametrize("module, make, extra", [
    ("opensmile", lambda: OpenSmileFunctionals(), "audio"),
    ("cv2", lambda: FaceAligner(), "video"),
    ("sentence_transformers", lambda: SentenceTransformerFeaturizer("any"), "text"),
    ("transformers", lambda: ContextualTextEncoder("any"), "text"),
])
def test_each_encoder_names_its_extra(monkeypatch, module, make, extra):
    monkeypatch.setitem(sys.modules, module, None)          # as if not installed
    with pytest.raises(MissingExtraError, match=rf'pip install "dialoggraph\[{extra}\]"'):
        make()


def test_the_command_line_says_it_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "opensmile", None)
    transcript = tmp_path / "t.csv"
    transcript.write_text("dialogue_id,utterance_id,speaker,text,emotion\nd,0,A,hi,joy\nd,1,B,yo,joy\n")
    assert main(["featurize", "--transcripts", str(transcript), "--out", str(tmp_path / "o"), "--audio",
                 "egemaps"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "dialoggraph: error: openSMILE's eGeMAPSv02 needs opensmile: pip install \"dialoggraph[audio]\""
