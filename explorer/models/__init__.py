"""Model loading and the per-architecture module map."""

from explorer.models.architecture import ARCHITECTURES, Architecture, ModelParts
from explorer.models.handle import LoadedModel, weights_fingerprint
from explorer.models.load import ALIASES, DEFAULT_MODEL, load_model

__all__ = ["load_model", "LoadedModel", "ModelParts", "Architecture", "ARCHITECTURES", "ALIASES", "DEFAULT_MODEL",
           "weights_fingerprint"]
