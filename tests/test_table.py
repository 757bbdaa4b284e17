"""The embedding table: after a share of the warm-up through the frame encoder, the per-frame
embeddings train as parameters of their own and the encoder no longer runs."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from nvcodec.fit import FitConfig, FrameSource, export_embeddings, fit
from nvcodec.fit.train import EmbeddingTable, train_steps
from nvcodec.io import synthetic_clip
from nvcodec.models import Recipe, solve_config, spec
from nvcodec.pipeline import EncodeOptions
from nvcodec.pipeline import rd as rd_module
from nvcodec.pipeline.options import Training
from nvcodec.progress import Reporter


def _hnerv() -> tuple[torch.nn.Module, FrameSource]:
    model_spec = spec("hnerv")
    torch.manual_seed(0)
    model = model_spec.build(solve_config(model_spec, 32, 64, 8, 3000), with_encoder=True)
    return model, FrameSource(torch.from_numpy(synthetic_clip(8, 32, 64, seed=4)), (32, 64))


class _Stages(Reporter):
    """A reporter that records each stage it is told of and its epochs."""

    def __init__(self) -> None:
        super().__init__()
        self.stages: list[tuple[str, int]] = []

    def start(self, stage: str, total: int) -> None:  # noqa: D102
        self.stages.append((stage, total))


def test_a_table_fit_trains_the_table_and_the_decoder_but_not_the_encoder() -> None:
    model, source = _hnerv()
    table = EmbeddingTable(export_embeddings(model, source))
    start = {n: p.detach().clone() for n, p in model.named_parameters()}
    rows = {n: v.detach().clone() for n, v in table.values.items()}
    fit(model, source, FitConfig(epochs=1), Reporter(), table=table)
    moved = {n for n, p in model.named_parameters() if not torch.equal(p, start[n])}
    assert moved and all(not n.startswith("encoder.") for n in moved)
    assert set(model.transmitted_parameters()) <= moved
    assert all(not torch.equal(v, rows[n]) for n, v in table.values.items())
    exported = export_embeddings(model, source, table)
    assert all(torch.equal(exported[n], v.detach()) for n, v in table.values.items())
    assert torch.equal(table(torch.tensor([3, 1]))["embedding"], table.values["embedding"][[3, 1]])


@pytest.mark.parametrize(
    ("share", "expected"), [(None, [("fit", 4)]), (0.5, [("fit", 2), ("table", 2)]), (0.0, [("fit", 1), ("table", 3)])]
)
def test_the_warm_up_moves_to_the_table_after_its_encoder_share(share: float | None, expected: list) -> None:
    model, source = _hnerv()
    reporter = _Stages()
    options = EncodeOptions(epochs=8, device="cpu", training=Training(encoder_share=share))
    table = rd_module._warm_up(model, source, options, 4, reporter, None)
    assert reporter.stages == expected
    assert (table is None) == (share is None)


def test_models_without_per_frame_embeddings_keep_no_table() -> None:
    model_spec = spec("nerv")
    model = model_spec.build(solve_config(model_spec, 32, 64, 8, 3000), with_encoder=True)
    assert not Training().uses_table(model) and Training().encoder_epochs(6, model) == 6


def test_a_schedule_split_into_spans_runs_the_same_steps_as_one_fit() -> None:
    _, source = _hnerv()
    param = torch.nn.Parameter(torch.zeros(1))

    def steps(cfg: FitConfig) -> list[tuple[float, list[int]]]:
        opt = torch.optim.SGD([param], lr=1.0)
        return [(opt.param_groups[0]["lr"], s.idx.tolist()) for s in train_steps(source, cfg, opt)]

    cfg = FitConfig(epochs=5, lr=0.01)
    split = steps(replace(cfg, span=(0, 2))) + steps(replace(cfg, span=(2, 5)))
    assert split == steps(cfg) and len(split) == 5 * 8


def test_the_table_keeps_the_models_order_of_embeddings() -> None:
    values = {"embedding": torch.zeros(4, 2), "diff_embedding": torch.ones(4, 3)}  # not sorted
    assert list(EmbeddingTable(values).values) == ["embedding", "diff_embedding"]


@pytest.mark.parametrize("model", ["pnerv", "hfe-hnerv"])
def test_an_encode_through_the_table_decodes_to_its_report(model: str, tmp_path) -> None:
    # 4 epochs: a 2-epoch warm-up, the second through the table (pnerv's embeddings are not in sorted order)
    from fractions import Fraction

    from nvcodec.io import Video
    from nvcodec.metrics import mean_psnr
    from nvcodec.pipeline import decode_frames, encode_video

    video = Video(synthetic_clip(8, 64, 128, seed=6), Fraction(25, 1), "synthetic")
    net = spec(model).skeleton(solve_config(spec(model), 64, 128, 8, 20_000))
    warm = Training(warmup_share=Recipe().warm_share).stage_epochs(4)[0]
    assert Training().encoder_epochs(warm, net) < warm  # the table takes over within the warm-up
    report = encode_video(video, tmp_path / "t.nrv", EncodeOptions(model=model, bpp=1.0, epochs=4, device="cpu"))
    assert mean_psnr(video.frames, decode_frames(tmp_path / "t.nrv", device="cpu")[1]) == pytest.approx(report.psnr)


def test_an_encode_whose_file_its_reader_refuses_leaves_no_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fractions import Fraction

    from nvcodec.errors import CorruptFileError
    from nvcodec.io import Video
    from nvcodec.pipeline import encode as encode_module
    from nvcodec.pipeline import encode_video

    def refuse(path):
        raise CorruptFileError(str(path), "invalid quantization step")

    monkeypatch.setattr(encode_module, "load_entries", refuse)
    video = Video(synthetic_clip(4, 32, 64, seed=2), Fraction(25, 1), "synthetic")
    with pytest.raises(CorruptFileError):
        encode_video(video, tmp_path / "bad.nrv", EncodeOptions(bpp=1.0, epochs=1, device="cpu"))
    assert not (tmp_path / "bad.nrv").exists()


def test_a_step_clips_the_gradient_norm_except_in_groups_marked_not_to() -> None:
    from nvcodec.fit.train import make_optimizer, optimizer_step

    weights, steps = torch.nn.Parameter(torch.zeros(4)), torch.nn.Parameter(torch.zeros(2))
    cfg = FitConfig(epochs=1, lr=1.0, clip=0.1, fused=False)
    opt = make_optimizer([{"params": [weights]}, {"params": [steps], "clip": False}], cfg)
    weights.grad, steps.grad = torch.full((4,), 3.0), torch.full((2,), 3.0)
    optimizer_step(opt, cfg)
    assert torch.linalg.vector_norm(weights.grad).item() == pytest.approx(0.1, rel=1e-4)
    assert torch.equal(steps.grad, torch.full((2,), 3.0))
