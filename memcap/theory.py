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


def log2_accepted(N: int, k: int, bti: int) -> float:
    """log2 A: how many outputs the bits-to-ignore criterion accepts as one target of N bits with k ones.

    The criterion (memcap.patterns.metrics.memorized) takes an output when at most ``bti`` of the
    target's k ones and at most ``bti`` of its N - k zeros are wrong, so

        A = sum_{a=0..bti} sum_{b=0..bti} C(k, a) * C(N - k, b),

    the double sum factoring into the two groups' sums. An accepted output need not have k ones: A
    counts every output taken for this target, an exact count of the acceptance set (not a bound),
    computed with integers as log2_binom is. bti = 0 gives A = 1, log2 A = 0.
    """
    ones = sum(math.comb(k, a) for a in range(bti + 1))
    zeros = sum(math.comb(N - k, b) for b in range(bti + 1))
    return math.log2(ones * zeros)


def bits_per_pattern(N: int, k: int, bti: int) -> float:
    """The bits one recalled pattern carries when up to ``bti`` wrong bits of each kind count as recall.

    log2 C(N, k) - log2 A (``log2_accepted``): the standard count of the information in a ball.
    Naming one of C(N, k) patterns takes log2 C(N, k) bits; an output the criterion accepts names
    the target only up to its tolerance, one of the A outputs accepted for it, so those log2 A bits
    are not stored. With bti = 0 it is log2_binom(N, k) exactly.
    """
    return log2_binom(N, k) - log2_accepted(N, k, bti)
