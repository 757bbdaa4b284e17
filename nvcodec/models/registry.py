"""The model registry: names and explicit, never-reused numeric ids for the file format.

A model class registers itself with :func:`register`; everything else looks models up here.
Ids in use: 1 ``nerv``, 2 ``hnerv``, 3 ``hfe-hnerv``, 4 ``hfs-hnerv``, 5 ``snerv``, 6 ``snerv-t``,
7 ``pnerv``, 8 ``pfnr``. An id is never reassigned, even if its model is removed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nvcodec.errors import NvcError


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about one model: its name, file id, config class and module class."""

    name: str
    model_id: int
    config_cls: type
    model_cls: type


_BY_NAME: dict[str, ModelSpec] = {}
_BY_ID: dict[int, ModelSpec] = {}


def register(name: str, model_id: int, config_cls: type) -> Callable[[type], type]:
    """Class decorator: register a model class under ``name`` with the file id ``model_id``."""

    def wrap(model_cls: type) -> type:
        if name in _BY_NAME or model_id in _BY_ID:
            raise ValueError(f"model {name!r} or id {model_id} registered twice")
        spec = ModelSpec(name, model_id, config_cls, model_cls)
        _BY_NAME[name] = spec
        _BY_ID[model_id] = spec
        model_cls.spec = spec
        return model_cls

    return wrap


def names() -> list[str]:
    """Registered model names, sorted by id."""
    return [s.name for s in sorted(_BY_NAME.values(), key=lambda s: s.model_id)]


def get(name: str) -> ModelSpec:
    """The spec of model ``name``; a one-line error lists the known names otherwise."""
    if name not in _BY_NAME:
        raise NvcError(f"unknown model {name!r} (known: {', '.join(names())})")
    return _BY_NAME[name]


def get_by_id(model_id: int) -> ModelSpec:
    """The spec registered under a file id."""
    if model_id not in _BY_ID:
        raise KeyError(model_id)
    return _BY_ID[model_id]


def build(name: str, config: Any, with_encoder: bool = False) -> Any:
    """Instantiate model ``name`` from its config (and its training-only encoder if asked)."""
    return get(name).model_cls(config, with_encoder=with_encoder)


def config_fields_of(config: Any) -> dict[str, Any]:
    """A config dataclass as a flat dict (tuples kept as tuples)."""
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}


_FIELD_TYPES = {"int": int, "float": float, "bool": bool, "str": str, "tuple[int, ...]": tuple}


def config_from_fields(spec: ModelSpec, fields: dict[str, Any]) -> Any:
    """Rebuild a config from stored fields, checking names and types exactly."""
    expected = {f.name: f for f in dataclasses.fields(spec.config_cls)}
    if set(fields) != set(expected):
        missing, extra = set(expected) - set(fields), set(fields) - set(expected)
        raise ValueError(f"config fields differ (missing {sorted(missing)}, unknown {sorted(extra)})")
    for name, value in fields.items():
        annotation = expected[name].type
        want = _FIELD_TYPES[annotation if isinstance(annotation, str) else annotation.__name__]
        if type(value) is not want:
            raise ValueError(f"config field {name!r} is {type(value).__name__}, expected {want.__name__}")
    return spec.config_cls(**fields)
