"""Model loading and the per-architecture module map."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer._lazy import lazy_exports

if TYPE_CHECKING:
    from explorer.models.architecture import ARCHITECTURES, Architecture, ModelParts
    from explorer.models.handle import LoadedModel, weights_fingerprint
    from explorer.models.load import load_model
    from explorer.models.names import ALIASES, DEFAULT_MODEL, bundled_models, canonical
    from explorer.models.registry import ModelRegistry

_EXPORTS = {
    "load_model": "explorer.models.load",
    "LoadedModel": "explorer.models.handle",
    "ModelParts": "explorer.models.architecture",
    "Architecture": "explorer.models.architecture",
    "ARCHITECTURES": "explorer.models.architecture",
    "ALIASES": "explorer.models.names",
    "DEFAULT_MODEL": "explorer.models.names",
    "canonical": "explorer.models.names",
    "bundled_models": "explorer.models.names",
    "ModelRegistry": "explorer.models.registry",
    "weights_fingerprint": "explorer.models.handle",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
