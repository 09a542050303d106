"""Population stability (PSI) of two dates' score distributions. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import numpy as np

# ---------------------------------------------------------------------------------------
# Population stability
# ---------------------------------------------------------------------------------------

PSI_EPSILON = 0.0001


def population_stability_index(expected_scores: Any, actual_scores: Any, bins: int | Sequence[int] = 10) -> Decimal:
    """PSI between two score distributions (e.g. last month's and this month's rescore).

    ``PSI = Σ (a_i − e_i) · ln(a_i / e_i)`` over the bins, with ``e_i`` / ``a_i`` the
    shares of the expected and actual populations in bin ``i``; an empty bin's share
    is replaced by ``0.0001`` so the logarithm stays finite. ``bins`` is either a number
    of quantile bins cut on the expected distribution (deciles by default; repeated cut
    points collapse) or an explicit sorted list of cut points (bins ``[c_{k-1}, c_k)``,
    open at both ends). Returns a ``Decimal`` rounded half-up to 4 places.
    """
    e = np.asarray(expected_scores, dtype=np.float64).reshape(-1)
    a = np.asarray(actual_scores, dtype=np.float64).reshape(-1)
    if e.size == 0 or a.size == 0:
        raise ValueError("both score distributions must be non-empty")
    if np.isnan(e).any() or np.isnan(a).any():
        raise ValueError("scores must not be NaN")
    if isinstance(bins, (int, np.integer)) and not isinstance(bins, bool):
        if bins < 2:
            raise ValueError("at least two bins")
        cuts = np.unique(np.quantile(e, np.linspace(0, 1, int(bins) + 1)[1:-1]))
    else:
        assert not isinstance(bins, (bool, int, np.integer))
        cuts = np.asarray(list(bins), dtype=np.float64)
        if cuts.size == 0 or np.any(np.diff(cuts) <= 0):
            raise ValueError("cut points must be strictly increasing")
    k = cuts.size + 1
    expected = np.bincount(np.searchsorted(cuts, e, side="right"), minlength=k)
    actual = np.bincount(np.searchsorted(cuts, a, side="right"), minlength=k)
    return psi_from_counts(expected, actual)


def psi_from_counts(expected_counts: Sequence[int] | Any, actual_counts: Sequence[int] | Any) -> Decimal:
    """PSI of two populations already counted in the same bins (e.g. a GROUP BY in the database):
    the formula of :func:`population_stability_index`, which counts its scores and calls this."""
    e = np.asarray(expected_counts, dtype=np.float64).reshape(-1)
    a = np.asarray(actual_counts, dtype=np.float64).reshape(-1)
    if e.size != a.size or e.size < 2:
        raise ValueError("two counts over the same bins (at least two)")
    if e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("both score distributions must be non-empty")
    e_share = e / e.sum()
    a_share = a / a.sum()
    e_share = np.where(e_share == 0, PSI_EPSILON, e_share)
    a_share = np.where(a_share == 0, PSI_EPSILON, a_share)
    psi = float(np.sum((a_share - e_share) * np.log(a_share / e_share)))
    return Decimal(repr(psi)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


PSI_STABLE = Decimal("0.1")
PSI_MODERATE = Decimal("0.25")


def psi_interpretation(psi: Decimal) -> Literal["stable", "moderate", "shift"]:
    """``stable`` below 0.1, ``moderate`` below 0.25, ``shift`` from 0.25 on (rescale or refit)."""
    if psi < PSI_STABLE:
        return "stable"
    if psi < PSI_MODERATE:
        return "moderate"
    return "shift"
