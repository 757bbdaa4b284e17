"""The model registry: names and explicit, never-reused numeric ids for the file format.

A model class registers itself with :func:`register`, declaring what it can do
(:class:`Capabilities`, checked against the class once); everything else asks for its
:class:`ModelSpec` once (:func:`spec` by name, :func:`spec_by_id` from a file) and carries it,
reading capabilities from it rather than probing classes. A class owns its config type
(``config_cls``); the registry writes nothing onto it.
Ids in use: 2 ``hnerv``, 4 ``hfs-hnerv``, 5 ``snerv``, 8 ``pfnr``, 9 ``hinerv``, 10 ``hfe-hnerv``,
11 ``pnerv``, 12 ``nerv``, 13 ``snerv-t``, 14 ``hinerv-mc``, 15 ``canvas``. Retired (:data:`RETIRED`): 1, 3,
6, 7. An id is never
reassigned, even if its model is removed.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from nvcodec.errors import UsageError
from nvcodec.models.base import NeuralVideoModel, ProgressiveModel
from nvcodec.models.limits import check_fields

RETIRED = {
    1: "nerv as first built, a conv decoder fed by a small MLP on a 2x4 grid (now id 12); re-encode the source",
    3: "hfe-hnerv as first built from notes, before the authors' code (now id 10); re-encode the source",
    6: "snerv-t without the MFU and with one shared up-sampler per TUB (now id 13); re-encode the source",
    7: "pnerv with HNeRV's decoder shape, before the authors' release (now id 11); re-encode the source",
}
"""Ids whose model is gone, with what a reader tells the user."""


@dataclass(frozen=True)
class Capabilities:
    """What a model can do, declared where it registers.

    Attributes:
        progressive: grows archives one video at a time (``append``; a :class:`ProgressiveModel`).
        patches: trains and decodes square windows of a frame (``--patch``; ``decode_window``).
        grids: has feature grids coded with the grid context model (``grid_parameters``).
        motion: models camera motion (reads each frame from a canvas through a map in its config).
        steps: its canvas has as many time steps as the encoder chooses (config field ``latent_frames``).
        chroma: the sample layouts its output stage produces (``rgb``: three full-size planes;
            ``yuv420``: also 4:2:0 planes natively, set by the config field ``yuv420``).
    """

    progressive: bool = False
    patches: bool = False
    grids: bool = False
    motion: bool = False
    steps: bool = False
    chroma: tuple[str, ...] = ("rgb",)


def _check_declared(model_cls: type[NeuralVideoModel], declared: Capabilities) -> None:
    """Refuse a declaration the class contradicts (at import, so a lie cannot ship)."""
    found = {
        "progressive": issubclass(model_cls, ProgressiveModel),
        "patches": callable(getattr(model_cls, "decode_window", None)),
        "grids": model_cls.grid_parameters is not NeuralVideoModel.grid_parameters,
        "steps": "latent_frames" in {f.name for f in dataclasses.fields(model_cls.config_cls)},
    }
    for name, has in found.items():
        if getattr(declared, name) != has:
            raise TypeError(f"{model_cls.__name__}: declares {name}={getattr(declared, name)}, its class says {has}")
    stage = "yuv420" in {f.name for f in dataclasses.fields(model_cls.config_cls)}
    if ("yuv420" in declared.chroma) != stage:
        raise TypeError(f"{model_cls.__name__}: declares chroma={declared.chroma}, its config's yuv420 says {stage}")


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model: its name, file id, config class, module class and
    :class:`Capabilities`."""

    name: str
    model_id: int
    config_cls: type
    model_cls: type[NeuralVideoModel]
    capabilities: Capabilities = Capabilities()

    @property
    def progressive(self) -> bool:
        """Whether the model grows archives (``capabilities.progressive``)."""
        return self.capabilities.progressive

    def build(self, config: Any, with_encoder: bool = False) -> NeuralVideoModel:
        """The model for ``config`` (with its training-only encoder if asked), initialized."""
        return self.model_cls(config, with_encoder=with_encoder)

    def skeleton(self, config: Any, with_encoder: bool = False) -> NeuralVideoModel:
        """The model (with its training-only encoder if asked) on PyTorch's ``meta`` device: names
        and shapes only, nothing allocated or initialised."""
        with torch.device("meta"), _ShapesOnly():
            return self.model_cls(config, with_encoder=with_encoder)

    def transmitted_count(self, config: Any) -> int:
        """Transmitted values (weights + embeddings) of the model for ``config``: the class's own
        :meth:`~nvcodec.models.base.NeuralVideoModel.value_count` where it defines one, else its
        skeleton's (cached per config)."""
        counted = self.model_cls.value_count(config) if "value_count" in vars(self.model_cls) else None
        return counted if counted is not None else _skeleton_facts(self, config)[0]

    def parameter_shapes(self, config: Any) -> dict[str, tuple[int, ...]]:
        """Names and shapes of the transmitted parameters for ``config``, in file order (cached per config)."""
        return dict(_skeleton_facts(self, config)[1])

    def config_from_fields(self, fields: dict[str, Any]) -> Any:
        """Rebuild this model's config from stored fields (see :func:`config_from_fields`)."""
        return config_from_fields(self, fields)


_FILLS = frozenset({torch.Tensor.uniform_, torch.Tensor.normal_, torch.Tensor.zero_, torch.Tensor.fill_})
"""The in-place fills that parameter initialisers (``torch.nn.init``) end in."""


class _ShapesOnly(TorchFunctionMode):
    """Skip :data:`_FILLS`: a skeleton's meta tensors hold no values to fill, and the fills were
    most of a build (hnerv at 144x176: 14 ms a skeleton with them, 2.6 without; sizing builds
    hundreds)."""

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:  # noqa: D105
        if func in _FILLS:
            return args[0]
        return func(*args, **(kwargs or {}))


@functools.lru_cache(maxsize=4096)
def _skeleton_facts(spec: ModelSpec, config: Any) -> tuple[int, tuple[tuple[str, tuple[int, ...]], ...]]:
    """What sizing and packing ask of a config's skeleton, computed once per (model, config): building
    a skeleton costs milliseconds, and sizing asks hundreds of times."""
    model = spec.skeleton(config)
    shapes = tuple((n, tuple(p.shape)) for n, p in model.transmitted_parameters().items())
    return model.transmitted_count(), shapes


_BY_NAME: dict[str, ModelSpec] = {}
_BY_ID: dict[int, ModelSpec] = {}


def register(name: str, model_id: int, **capabilities: Any) -> Callable[[type], type]:
    """Class decorator: register a model class under ``name`` with the file id ``model_id`` and
    the :class:`Capabilities` given as keywords; the class declares its own ``config_cls``."""

    def wrap(model_cls: type) -> type:
        if not issubclass(model_cls, NeuralVideoModel):
            raise TypeError(f"{model_cls.__name__} does not implement NeuralVideoModel")
        if "config_cls" not in vars(model_cls):
            raise TypeError(f"{model_cls.__name__} does not declare its config_cls")
        if name in _BY_NAME or model_id in _BY_ID or model_id in RETIRED:
            raise ValueError(f"model {name!r} or id {model_id} registered twice")
        declared = Capabilities(**capabilities)
        _check_declared(model_cls, declared)
        spec = ModelSpec(name, model_id, model_cls.config_cls, model_cls, declared)
        _BY_NAME[name] = spec
        _BY_ID[model_id] = spec
        return model_cls

    return wrap


def names() -> list[str]:
    """Registered model names, sorted by id."""
    return [s.name for s in sorted(_BY_NAME.values(), key=lambda s: s.model_id)]


def spec(name: str) -> ModelSpec:
    """The spec of model ``name``; a one-line error lists the known names otherwise."""
    if name not in _BY_NAME:
        raise UsageError(f"unknown model {name!r} (known: {', '.join(names())})")
    return _BY_NAME[name]


def spec_by_id(model_id: int) -> ModelSpec:
    """The spec registered under a file id (:class:`KeyError` for an unknown id)."""
    if model_id not in _BY_ID:
        raise KeyError(model_id)
    return _BY_ID[model_id]


OPTIONAL = "optional"
"""Metadata key of a config field added after files without it were written: a file carries it
only where it differs from its default, and a file without it reads as the default (so the files
of earlier writers keep their bytes and their meaning)."""


def optional_field(default: Any) -> Any:
    """A config dataclass field marked :data:`OPTIONAL`, with ``default``."""
    return dataclasses.field(default=default, metadata={OPTIONAL: True})


def config_fields_of(config: Any) -> dict[str, Any]:
    """A config dataclass as a flat dict (tuples kept as tuples), without the :data:`OPTIONAL`
    fields at their defaults."""
    return {
        f.name: getattr(config, f.name)
        for f in dataclasses.fields(config)
        if not (f.metadata.get(OPTIONAL) and getattr(config, f.name) == f.default)
    }


_FIELD_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "tuple[int, ...]": tuple}


def config_from_fields(spec: ModelSpec, fields: dict[str, Any]) -> Any:
    """Rebuild a config from stored fields, checking names and types exactly and every value
    against its declared range (:mod:`nvcodec.models.limits`); an :data:`OPTIONAL` field may be
    absent (its default)."""
    expected = {f.name: f for f in dataclasses.fields(spec.config_cls)}
    absent = {n for n, f in expected.items() if f.metadata.get(OPTIONAL) and n not in fields}
    if set(fields) | absent != set(expected):
        missing, extra = set(expected) - set(fields) - absent, set(fields) - set(expected)
        raise ValueError(f"config fields differ (missing {sorted(missing)}, unknown {sorted(extra)})")
    for name, value in fields.items():
        annotation = expected[name].type
        want = _FIELD_TYPES[annotation if isinstance(annotation, str) else annotation.__name__]
        if type(value) is not want:
            raise ValueError(f"config field {name!r} is {type(value).__name__}, expected {want.__name__}")
    check_fields(fields)
    return spec.config_cls(**fields)
