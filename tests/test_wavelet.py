"""Shared frequency layers: the Haar DWT/IDWT pair, the harmonic activation, the frequency losses."""

from __future__ import annotations

import pytest
import torch

from nvcodec.fit.losses import LOSSES, high_frequency_spectrum
from nvcodec.models.layers import Harmonic
from nvcodec.models.wavelet import haar_dwt, haar_idwt


def test_idwt_inverts_dwt_exactly_and_preserves_energy() -> None:
    x = torch.randn(3, 5, 8, 12, dtype=torch.float64)
    bands = haar_dwt(x)
    assert all(b.shape == (3, 5, 4, 6) for b in bands)
    assert torch.allclose(haar_idwt(*bands), x, atol=1e-12)
    assert torch.isclose(sum((b**2).sum() for b in bands), (x**2).sum())


def test_dwt_of_a_constant_has_no_detail() -> None:
    ll, lh, hl, hh = haar_dwt(torch.full((1, 1, 4, 4), 0.5))
    assert torch.allclose(ll, torch.ones_like(ll)) and all(torch.all(b == 0) for b in (lh, hl, hh))


def test_dwt_refuses_odd_sizes() -> None:
    with pytest.raises(ValueError):
        haar_dwt(torch.zeros(1, 1, 5, 4))


def test_harmonic_starts_as_sine_and_learns_both_weights() -> None:
    act = Harmonic()
    x = torch.linspace(-3, 3, 11)
    assert torch.allclose(act(x), torch.sin(x))
    act(x).sum().backward()
    assert act.w.grad is not None and act.w.grad.abs().sum() > 0


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_are_zero_on_equal_frames_and_differentiable(name: str) -> None:
    a = torch.rand(2, 3, 36, 70, requires_grad=True)
    b = torch.rand(2, 3, 36, 70)
    assert float(LOSSES[name](b, b)) == pytest.approx(0.0, abs=1e-6)
    LOSSES[name](a, b).backward()
    assert a.grad is not None and torch.isfinite(a.grad).all()


def test_high_frequency_loss_ignores_low_frequencies() -> None:
    y, x = torch.meshgrid(torch.arange(64.0), torch.arange(64.0), indexing="ij")
    smooth = (0.1 * torch.cos(2 * torch.pi * x / 64))[None, None]
    sharp = (0.1 * torch.cos(2 * torch.pi * 20 * x / 64))[None, None]
    zero = torch.zeros_like(smooth)
    assert float(high_frequency_spectrum(smooth, zero)) < 1e-10
    assert float(high_frequency_spectrum(sharp, zero)) > 1e-3
