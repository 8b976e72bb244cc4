"""The community feature files the papers' settings train on (for ``dialoggraph reproduce``)."""
from __future__ import annotations

from dialoggraph.models.base import FeatureFiles

_AMB = ("the AMB-DSGDN authors' release: the Google Drive folder in the README of github wys-ljq/AMB-DSGDN "
        "(https://drive.google.com/drive/folders/1J1mvbqQmVodNBzbiOIxRiWOtkP6qqP-K)")
_DAGERC = ("the DAG-ERC authors' release: the Google Drive file in the README of github shenwzh3/DAG-ERC "
           "(https://drive.google.com/file/d/1R5K_2PlZ3p3RFQ1Ycgmo3TgxvYBzptQG/view), its {} folder")
_MULTIEMO = "the Data/{} folder of github TaoShi1998/MultiEMO-ACL2023 (git-lfs files)"
_DAGERC_FILES = ("train_data_roberta.json.feature", "dev_data_roberta.json.feature", "test_data_roberta.json.feature")
_MULTIEMO_FILES = ("Speakers.pkl", "TextFeatures.pkl", "AudioFeatures.pkl", "VisualFeatures.pkl")

#: RoBERTa text, openSMILE audio and DenseNet visual features in one MMGCN-style pickle.
RTA_MELD = FeatureFiles("mmgcn", ("meld_multimodal_features.pkl",), "meld", _AMB)
RTA_IEMOCAP = FeatureFiles("mmgcn", ("iemocap_multimodal_features.pkl",), "iemocap", _AMB)
#: DAG-ERC's RoBERTa utterance features (text only).
DAGERC_MELD = FeatureFiles("dagerc", _DAGERC_FILES, "meld", _DAGERC.format("MELD"))
DAGERC_IEMOCAP = FeatureFiles("dagerc", _DAGERC_FILES, "iemocap", _DAGERC.format("IEMOCAP"))
#: MultiEMO's features (the base MFCRE builds on).
MULTIEMO_MELD = FeatureFiles("multiemo", _MULTIEMO_FILES, "meld", _MULTIEMO.format("MELD"))
MULTIEMO_IEMOCAP = FeatureFiles("multiemo", _MULTIEMO_FILES, "iemocap", _MULTIEMO.format("IEMOCAP"))
