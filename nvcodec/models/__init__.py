"""The NeRV-family models, chosen by name from one registry (importing this package registers them)."""

from nvcodec.models import hfe_hnerv, hfs_hnerv, hnerv, nerv, pfnr, pnerv, snerv, snerv_t  # noqa: F401  (registration side effect)
from nvcodec.models.base import NeuralVideoModel
from nvcodec.models.registry import build, get, get_by_id, names
from nvcodec.models.sizing import solve_config

__all__ = ["NeuralVideoModel", "build", "get", "get_by_id", "names", "solve_config"]
