"""``dialoggraph reproduce``: the papers' settings over their feature files, beside the papers' figures."""
import json
import sys
from pathlib import Path

import numpy as np

from dialoggraph.cli import main
from dialoggraph.models import MODELS

sys.path.insert(0, str(Path(__file__).parents[1] / "datasets"))
from test_feature_pickle import dump, iemocap_tuple  # noqa: E402


def amb_dsgdn_features(root):
    """A small IEMOCAP file in AMB-DSGDN's layout (text = RoBERTa layer 1, roberta2..4, audio, visual)."""
    ids, speakers, labels, text, audio, visual, sentence, train_ids, test_ids = iemocap_tuple(np.random.default_rng(0))
    roberta = [{v: x + k for v, x in text.items()} for k in (2, 3, 4)]
    dump(root / "iemocap_multimodal_features.pkl",
         (ids, speakers, labels, text, *roberta, audio, visual, sentence, train_ids, test_ids))


def test_list_shows_every_pair_with_the_papers_figure(capsys):
    assert main(["reproduce", "--list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    expected = {(name, dataset) for name, cls in MODELS.items() for dataset, p in cls.presets.items() if p.paper}
    assert {(r[0], r[1]) for r in rows} == expected
    assert len(expected) == 10          # AMB-DSGDN, DAG-ERC, LFVD, MDGET-MER, MFCRE on IEMOCAP and MELD
    amb = next(r for r in rows if r[:2] == ["amb_dsgdn", "meld"])
    assert amb[2:5] == ["66.18", "66.07", "Table"]


def test_missing_feature_files_say_which_file_and_where_from(tmp_path, capsys):
    assert main(["reproduce", "amb_dsgdn", "iemocap", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"needs {tmp_path}/iemocap_multimodal_features.pkl" in err
    assert "github wys-ljq/AMB-DSGDN" in err and f"put it in {tmp_path}/" in err
    assert main(["reproduce", "mfcre", "meld", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Speakers.pkl" in err and "TaoShi1998/MultiEMO-ACL2023" in err
    assert main(["reproduce", "cmgfe", "meld"]) == 2
    assert "no paper setting to reproduce for cmgfe meld; there are: amb_dsgdn iemocap" in capsys.readouterr().err


def test_a_reproduction_runs_the_preset_over_seeds_and_reports_beside_the_paper(tmp_path, capsys):
    amb_dsgdn_features(tmp_path)
    out = tmp_path / "out"
    assert main(["reproduce", "amb_dsgdn", "iemocap", "--root", str(tmp_path), "--epochs", "1", "--seeds", "0", "1",
                 "--out", str(out), "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "paper (Table 2): weighted F1 75.64, accuracy 76.09" in printed
    assert "measured, 2 seeds: weighted F1" in printed and "(epochs changed to 1)" in printed
    report = json.loads((out / "reproduce.json").read_text())
    assert report["paper"]["weighted_f1"] == 75.64 and report["schedule_changed"] is True
    assert len(report["measured"]["weighted_f1"]["values"]) == 2
    config = (out / "config.yaml").read_text()
    assert "window: 20" in config and "batch_size: 16" in config and "lr: 6.8e-05" in config
    assert (out / "seed0" / "best.pt").exists() and (out / "seed1" / "metrics.json").exists()


def test_a_second_reproduction_into_the_same_folder_needs_overwrite(tmp_path, capsys):
    amb_dsgdn_features(tmp_path)
    argv = ["reproduce", "lfvd", "iemocap", "--root", str(tmp_path), "--epochs", "1", "--seeds", "0", "--quiet",
            "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    assert main(argv) == 2 and "--overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0
