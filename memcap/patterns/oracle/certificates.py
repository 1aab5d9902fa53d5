"""Sets of bits that no hyperplane realizes (circuits): found in floats, proven in exact arithmetic.

``_farkas_support`` finds one by LP: rows s_i (x_i, 1) with λ >= 0, λ ≠ 0,
Σ λ_i s_i (x_i, 1) = 0 (a Farkas certificate), a minimal infeasible
subsystem. ``_verified_circuit`` checks it exactly, over the integers
(``_integer_kernel_vector``: p-adic lifting) or the rationals, on the data as
exact numbers (``_exact_rows``), so the upper bound rests on no
floating-point tolerance.
"""

from __future__ import annotations

import math

import numpy as np

from memcap.patterns.oracle.lp import WITHOUT_PRESOLVE, decided_linprog

# Support threshold on a Farkas multiplier vector normalized to sum 1.
_SUPPORT_TOL = 1e-10


def _exact_rows(X: np.ndarray) -> list[list]:
    """X with its bias column as exact Python numbers: ints when X is integral, else Fractions of the floats."""
    from fractions import Fraction
    if np.all(X == np.round(X)) and np.abs(X).max(initial=0) < 2**52:
        return [[int(v) for v in row] + [1] for row in X]
    return [[Fraction(float(v)) for v in row] + [1] for row in X]


# A prime below 2^25: products of two residues stay below 2^50, exact in int64.
_PRIME = 33554393


def _left_inverse_mod(A: np.ndarray, p: int) -> np.ndarray | None:
    """E (n, m) with E A ≡ I mod p for an integer A (m, n) of rank n mod p (Gauss-Jordan in int64), else None."""
    m, n = A.shape
    M = np.hstack([A % p, np.eye(m, dtype=np.int64)])
    for c in range(n):
        nz = np.flatnonzero(M[c:, c]) + c
        if not len(nz):
            return None
        r = nz[0]
        if r != c:
            M[[c, r]] = M[[r, c]]
        M[c] = M[c] * pow(int(M[c, c]), -1, p) % p
        col = M[:, c].copy()
        col[c] = 0
        rows = np.flatnonzero(col)
        M[rows] = (M[rows] - np.outer(col[rows], M[c])) % p
    return M[:n, n:]


def _rational(a: int, m: int) -> tuple[int, int] | None:
    """n/d ≡ a mod m with |n|, d <= sqrt(m/2) (Wang's rational reconstruction), or None."""
    bound = math.isqrt(m // 2)
    r0, r1, t0, t1 = m, a % m, 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1, t0, t1 = r1, r0 - q * r1, t1, t0 - q * t1
    if t1 == 0 or abs(t1) > bound:
        return None
    return (r1, t1) if t1 > 0 else (-r1, -t1)


def _integer_kernel_vector(A: np.ndarray, lam: np.ndarray) -> list[int] | None:
    """An integer vector v with A v = 0, v proportional to the float kernel vector ``lam``, or None.

    A (m, k) integer of rank k − 1 (a circuit). With f the column of largest
    λ, solves A[:, −f] u = −A[:, f] over the rationals by Dixon's p-adic
    lifting (one left inverse mod p, then matrix-vector products) and
    rational reconstruction. No BLAS: multithreaded OpenBLAS on a loaded
    2-core machine made a 200 x 200 QR take 0.3 s. Nothing here needs to be
    trusted: the caller checks A v = 0 in exact integers.
    """
    m, k = A.shape
    f = int(np.argmax(lam))
    B = np.delete(A, f, axis=1).astype(np.int64)
    c = -A[:, f].astype(np.int64)
    p = _PRIME
    E = _left_inverse_mod(B, p)
    if E is None:
        return None
    # Hadamard: a (k−1)-minor of B is at most H = Π of its k−1 largest row norms, and u = adj c / det
    # has numerators at most H |c|_1 and denominator at most H; Wang needs p^L > 2 max(|n|, d)^2.
    norms = np.sort(np.maximum(np.sqrt((B.astype(float) ** 2).sum(1)), 1.0))[::-1][: k - 1]
    log2_num = float(np.log2(norms).sum()) + float(np.log2(max(np.abs(c).sum(), 1)))
    steps = int(np.ceil((2 * log2_num + 4) / np.log2(p))) + 1
    residual, digits = c.copy(), []
    for _ in range(steps):
        x = (E @ (residual % p)) % p  # each term < 2^50, at most m of them: exact in int64 for m < 2^13
        digits.append(x)
        step = residual - B @ x
        if (step % p).any():
            return None
        residual = step // p
    modulus = p ** steps
    U = [0] * (k - 1)
    for d in reversed(digits):
        U = [u * p + int(x) for u, x in zip(U, d)]
    half, bound = modulus // 2, math.isqrt(modulus // 2)
    den, nums = 1, []
    for u in U:
        t = (u * den) % modulus
        t = t - modulus if t > half else t
        if abs(t) > bound:
            frac = _rational(t, modulus)
            if frac is None:
                return None
            den *= frac[1]
            nums = [n * frac[1] for n in nums]
            t = frac[0]
        nums.append(t)
    return nums[:f] + [den] + nums[f:]


def _verified_circuit(exact_rows: list[list], sign: np.ndarray, support: np.ndarray, lam: np.ndarray) -> bool:
    """Exactly: is there λ > 0 on ``support`` with Σ λ_i s_i (x_i, 1) = 0?

    Then no w, b gets all these bits right by memcap's criterion: a target-1
    bit needs s a >= 0, a target-0 bit s a > 0, and Σ λ_i s_i a_i = 0 allows
    neither unless every term is 0, which a target-0 bit forbids (and the bias
    coordinate, Σ λ_i s_i = 0, says there is one). For integer X an integer λ
    is found by p-adic lifting (``_integer_kernel_vector``) and checked in
    exact integers; otherwise, or when that fails, the null space is computed
    over QQ (sympy's DomainMatrix): it must be one line spanned by a vector of
    one strict sign. ``lam``: the float multipliers on ``support``.
    """
    cols = [[v * int(sign[i]) for v in exact_rows[i]] for i in support]
    if all(isinstance(v, int) for v in cols[0]):
        A = np.array(cols, dtype=np.int64).T  # (n + 1, k)
        v = _integer_kernel_vector(A, lam)
        if v is not None and (all(x > 0 for x in v) or all(x < 0 for x in v)):
            if not (A.astype(object) @ np.array(v, dtype=object)).any():
                return True
    from sympy import QQ
    from sympy.polys.matrices import DomainMatrix

    def q(v):
        return QQ(v) if isinstance(v, int) else QQ(v.numerator, v.denominator)

    n = len(cols[0])
    M = DomainMatrix([[q(cols[c][r]) for c in range(len(cols))] for r in range(n)], (n, len(cols)), QQ)
    null = M.nullspace()
    if null.shape[0] != 1:
        return False
    v = null.to_list()[0]
    return all(x > 0 for x in v) or all(x < 0 for x in v)


def _farkas_support(A: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows of A (k, n+1) = s_i (x_i, 1) with some λ >= 0, Σλ = 1, λ A = 0: their indices and λ there, or None when separable.

    A basic (vertex) solution of the dual simplex, so the support's columns
    are linearly independent bar one relation: a minimal infeasible subsystem.
    Raises RuntimeError when HiGHS answers neither way.
    """
    k = len(A)
    # Presolve is slower on these, and answers "unknown" on some at N=200: without it from the start.
    res = decided_linprog(np.zeros(k), WITHOUT_PRESOLVE, A_eq=np.vstack([A.T, np.ones((1, k))]),
                          b_eq=np.r_[np.zeros(A.shape[1]), 1.0], bounds=(0, None))
    if res.status == 2:
        return None
    lam = res.x
    support = np.flatnonzero(lam > _SUPPORT_TOL * lam.max())
    return support, lam[support]
