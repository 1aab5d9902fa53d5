"""Theoretical yardsticks for the measured capacities.

A one-layer network with N inputs and N outputs is N independent perceptrons,
one per output bit, all sharing the inputs. It recalls a pattern set only if
every one of them classifies every pattern, so Gardner's capacity of a single
perceptron bounds how many patterns the layer can store.
"""

from __future__ import annotations

import math
from functools import cache

from scipy import optimize, stats


def _tail_moments(x: float) -> tuple[float, float]:
    """First and second moments of the Gaussian tail beyond x.

    Returns (∫_x^∞ Dt (t-x), ∫_x^∞ Dt (t-x)²) with Dt the standard normal measure,
    in closed form: φ(x) - x·Q(x) and (1 + x²)·Q(x) - x·φ(x), Q the upper tail.
    """
    density, tail = stats.norm.pdf(x), stats.norm.sf(x)
    return density - x * tail, (1 + x * x) * tail - x * density


@cache
def gardner_alpha(f: float) -> float:
    """Gardner's critical capacity α_c = P/N of a perceptron with a free threshold.

    ``f`` is the output coding level, the fraction of patterns whose target is +1.
    At zero margin, Gardner (1988) gives for biased patterns

        1/α_c = f ∫_{-κ}^∞ Dt (t+κ)² + (1-f) ∫_{κ}^∞ Dt (t-κ)²,

    with κ, the threshold in units of the fields' spread, chosen to make the right
    side smallest. Its derivative vanishes where the two classes' first moments
    balance, f ∫_{-κ}^∞ Dt (t+κ) = (1-f) ∫_{κ}^∞ Dt (t-κ); the left side minus the
    right rises monotonically in κ, so brentq finds the root. α_c(0.5) = 2 is
    Cover's count; sparse outputs are easier to store: α_c(0.1) ≈ 3.913.
    """
    f = float(f)
    if not 0.0 < f < 1.0:
        raise ValueError(f"the coding level must lie strictly between 0 and 1, got {f}")

    def balance(kappa: float) -> float:
        return f * _tail_moments(-kappa)[0] - (1 - f) * _tail_moments(kappa)[0]

    kappa = optimize.brentq(balance, -40.0, 40.0, xtol=1e-14)
    return 1.0 / (f * _tail_moments(-kappa)[1] + (1 - f) * _tail_moments(kappa)[1])


def gardner_bound(N: int, s: float) -> float:
    """Most patterns a one-layer N→N network with output sparsity s can store: α_c(s)·N."""
    return gardner_alpha(s) * N


def log2_binom(N: int, k: int) -> float:
    """log2 C(N, k): the bits needed to name one pattern of length N with k ones.

    Exact: math.comb gives the integer, and math.log2 accepts integers of any size.
    """
    return math.log2(math.comb(N, k))
