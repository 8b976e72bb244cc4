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


def test_the_core_imports_and_featurizes_text_without_any_extra(tmp_path):
    """No extra is imported until it is used: a core install featurizes TF-IDF text and trains."""
    import subprocess
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'cv2', 'opensmile', 'transformers', 'sentence_transformers', 'skimage',\n"
        "                                  'imageio_ffmpeg', 'timm', 'soundfile', 'matplotlib'}:\n"
        "            raise ImportError(name + ' blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from dialoggraph.cli import main\n"
        "assert main(['featurize', '--transcripts', sys.argv[1], '--out', sys.argv[2], '--quiet']) == 0\n"
        "assert main(['featurize', '--transcripts', sys.argv[1], '--out', sys.argv[2] + '2',\n"
        "             '--audio', 'egemaps']) == 2\n"
    )
    transcript = tmp_path / "t.csv"
    transcript.write_text("dialogue_id,utterance_id,speaker,text,emotion\n"
                          + "".join(f"d{d},{u},{'AB'[u % 2]},words number {u} here,{'joy' if u % 2 else 'anger'}\n"
                                    for d in range(4) for u in range(3)))
    result = subprocess.run([sys.executable, "-c", blocker, str(transcript), str(tmp_path / "out")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'pip install "dialoggraph[audio]"' in result.stderr
