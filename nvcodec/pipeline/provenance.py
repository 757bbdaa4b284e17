"""What an encode writes in its file's provenance section (:mod:`nvcodec.format.provenance`):
the encoder's version and the settings that produced the entry, made from the encode options
alone (so every candidate size the rate control measures counts the same bytes). Two short
strings keep the section near 80 bytes: it is paid for in every file's rate."""

from __future__ import annotations

from typing import Any

import torch

from nvcodec.pipeline.options import EncodeOptions, Training, resolve_device

FLAGS = {
    "prune": "--prune",
    "weight_bits": "--weight-bits",
    "embed_bits": "--embed-bits",
    "batch_size": "--batch-size",
    "lr": "--lr",
    "seed": "--seed",
    "capacity": "--capacity",
    "max_videos": "--max-videos",
    "lam": "--lambda",
    "patch": "--patch",
    "threads": "--threads",
    "camera": "--camera",
}
"""Encode options the command line shows when they differ from their defaults, by their flags."""


def _word(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def command_line(options: EncodeOptions) -> str:
    """``encode`` with the model, the budget, the epochs (a preset as the epochs it resolved to)
    or ``--time``, and every other option that differs from its default; input and output left
    out. A training changed from the defaults without a flag (benchmark ablations) shows as
    ``(custom training)``."""
    words = ["encode", "--model", options.model]
    if options.params is not None:
        words += ["--params", str(options.params)]
    else:
        words += ["--bpp", _word(float(options.budget_bpp or 0.0))]
    if options.time is not None:
        words += ["--time", f"{options.time:g}s"]
    elif options.epochs is not None:
        words += ["--epochs", str(options.epochs)]
    else:
        words += ["--preset", options.preset]
    default = EncodeOptions()
    for name, flag in FLAGS.items():
        value = getattr(options, name)
        if value is not None and value != getattr(default, name):
            words += [flag, _word(value)]
    if options.rd is not None:
        words.append("--rd" if options.rd else "--no-rd")
    recipe = options.spec.model_cls.recipe
    if options.recipe is not None or options.training != Training(warmup_share=recipe.warm_share):
        words.append("(custom training)")
    return " ".join(words)


def provenance(options: EncodeOptions) -> dict[str, Any]:
    """The ``PROV`` fields of an encode with ``options`` (see
    :data:`nvcodec.format.provenance.WRITTEN`)."""
    from nvcodec import __version__

    device = resolve_device(options.device).type
    return {"encoder": f"nvcodec {__version__} (torch {torch.__version__}, {device})", "command": command_line(options)}
