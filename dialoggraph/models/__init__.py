"""Published models, built only from dialoggraph's blocks, their base class and the registry."""
from dialoggraph.models.amb_dsgdn import AMBDSGDN, AMBDSGDNConfig
from dialoggraph.models.base import DialogueModel, FeatureFiles, ModelConfig, PaperResult, Preset
from dialoggraph.models.baselines import (BaselineConfig, BiGRU, LogisticRegressionConfig, LogisticRegressionFloor,
                                         UtteranceMLP)
from dialoggraph.models.cmgfe import CMGFE, CMGFEConfig
from dialoggraph.models.dag_erc import DAGERC, DAGERCConfig
from dialoggraph.models.lfvd import LFVD, LFVDConfig
from dialoggraph.models.mdget_mer import MDGETMER, MDGETMERConfig
from dialoggraph.models.mfcre import MFCRE, MFCREConfig
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import MODELS, model_spec, register, resolve_model

__all__ = ["DialogueModel", "ModelConfig", "ModelOutput", "Preset", "PaperResult", "FeatureFiles", "MODELS",
           "register", "resolve_model", "model_spec", "DAGERC", "DAGERCConfig", "AMBDSGDN", "AMBDSGDNConfig",
           "UtteranceMLP", "BiGRU", "BaselineConfig",
           "LogisticRegressionFloor", "LogisticRegressionConfig", "MDGETMER", "MDGETMERConfig", "CMGFE", "CMGFEConfig",
           "MFCRE", "MFCREConfig", "LFVD", "LFVDConfig"]
