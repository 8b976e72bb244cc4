"""Published models, built only from dialoggraph's blocks, and the registry the CLI uses."""
from dialoggraph.models.amb_dsgdn import AMBDSGDN, AMBDSGDNConfig
from dialoggraph.models.baselines import BiGRU, UtteranceMLP
from dialoggraph.models.cmgfe import CMGFE, CMGFEConfig
from dialoggraph.models.dag_erc import DAGERC, DAGERCConfig
from dialoggraph.models.lfvd import LFVD, LFVDConfig
from dialoggraph.models.mdget_mer import MDGETMER, MDGETMERConfig
from dialoggraph.models.mfcre import MFCRE, MFCREConfig
from dialoggraph.models.output import ModelOutput
from dialoggraph.models.registry import MODELS, get_model_class, register

__all__ = ["ModelOutput", "MODELS", "register", "get_model_class", "DAGERC", "DAGERCConfig", "AMBDSGDN",
           "AMBDSGDNConfig", "UtteranceMLP", "BiGRU",
           "MDGETMER", "MDGETMERConfig", "CMGFE", "CMGFEConfig", "MFCRE", "MFCREConfig", "LFVD", "LFVDConfig"]
