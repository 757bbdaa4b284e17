"""The NeRV-family models, chosen by name from one registry (importing this package registers them).

Ask :func:`spec` (by name) or :func:`spec_by_id` (from a file) once; the :class:`ModelSpec` it
returns builds the model, its meta-device skeleton and its config, and says what it can do.
"""

from nvcodec.models import (  # noqa: F401  (registration side effect)
    hfe_hnerv,
    hfs_hnerv,
    hinerv,
    hinerv_mc,
    hnerv,
    latent_canvas,
    nerv,
    pfnr,
    pnerv,
    snerv,
    snerv_t,
)
from nvcodec.models.base import NeuralVideoModel, ProgressiveModel, Recipe
from nvcodec.models.complexity import decode_macs, kmac_per_pixel
from nvcodec.models.registry import RETIRED, ModelSpec, config_fields_of, names, spec, spec_by_id
from nvcodec.models.sizing import embedding_layout, solve_config

__all__ = [
    "RETIRED",
    "ModelSpec",
    "decode_macs",
    "kmac_per_pixel",
    "NeuralVideoModel",
    "ProgressiveModel",
    "Recipe",
    "config_fields_of",
    "embedding_layout",
    "names",
    "solve_config",
    "spec",
    "spec_by_id",
]
