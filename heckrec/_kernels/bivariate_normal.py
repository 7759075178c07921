"""Log of the bivariate normal CDF and its derivatives, accurate in the tails.

``log_bvn_cdf(h, k, a)`` returns log Phi2(h, k; rho) for rho = tanh(a), with
its derivatives in h, k and a. Two evaluations:

* Genz's BVND (A. Genz, "Numerical computation of rectangular bivariate and
  trivariate normal and t probabilities", Stat. Comput. 14, 2004; the
  Drezner-Wesolowsky integral over asin(rho) by 6/12/20-point Gauss-Legendre,
  and for |rho| >= 0.925 Genz's expansion around rho = +-1). About 1e-16
  absolute, so fine wherever Phi2 is not small.
* Where Genz's value is below ``GENZ_FLOOR`` (the tails, where an absolute
  error is a large relative one, or the value underflows), the one-dimensional
  integral Phi2 = int_{-inf}^{h} phi(x) Phi((k - rho x)/sqrt(1 - rho^2)) dx
  is computed in log space. Its integrand is log-concave, so the code finds
  the mode, the points where the integrand has fallen by e^-40 on each side,
  and integrates by Gauss-Legendre on panels that grow geometrically away
  from the mode (a sharp step of width sqrt(1 - rho^2) near the mode, as rho
  -> +-1, is resolved by the small panels there).

rho enters as a = atanh(rho) so that sqrt(1 - rho^2) = 1/cosh(a) and
rho/sqrt(1 - rho^2) = sinh(a) keep full relative precision as |rho| -> 1.
The tests compare both paths with mpmath on a grid including |rho| = 1 - 1e-12
and arguments down to -40, and the derivatives with finite differences.
"""

import math

import numpy as np
from numba import njit

from .normal import LOG_2PI_HALF, log_ndtr_mills

LOG_2PI = 2.0 * LOG_2PI_HALF
TWO_PI = 2.0 * math.pi

#: Below this Genz's absolute accuracy (~1e-16) is no longer ~1e-14 relative.
GENZ_FLOOR = 1e-2

#: Nodes and weights of the negative half of the 6, 12 and 20-point rules.
_GL = [np.polynomial.legendre.leggauss(n) for n in (6, 12, 20)]
GL_X = np.zeros((3, 10))
GL_W = np.zeros((3, 10))
for _row, (_x, _w) in enumerate(_GL):
    GL_X[_row, : _x.size // 2] = _x[: _x.size // 2]
    GL_W[_row, : _x.size // 2] = _w[: _x.size // 2]
#: The full 16-point rule on [-1, 1] for the tail panels.
PANEL_X, PANEL_W = np.polynomial.legendre.leggauss(16)
#: How far (in log) the integrand falls before the tail integral stops.
TAIL_DROP = 40.0


@njit(cache=True)
def _ndtr(x):
    return 0.5 * math.erfc(-x * 0.7071067811865476)


@njit(cache=True)
def genz_upper(h, k, r, ca):
    """P(X > h, Y > k) for corr(X, Y) = r, Genz's BVND; ``ca = 1/sqrt(1 - r^2)``."""
    if abs(r) < 0.3:
        ng, lg = 0, 3
    elif abs(r) < 0.75:
        ng, lg = 1, 6
    else:
        ng, lg = 2, 10
    hk = h * k
    bvn = 0.0
    if abs(r) < 0.925:
        hs = 0.5 * (h * h + k * k)
        asr = math.asin(r)
        for i in range(lg):
            sn = math.sin(asr * (GL_X[ng, i] + 1.0) * 0.5)
            bvn += GL_W[ng, i] * math.exp((sn * hk - hs) / (1.0 - sn * sn))
            sn = math.sin(asr * (-GL_X[ng, i] + 1.0) * 0.5)
            bvn += GL_W[ng, i] * math.exp((sn * hk - hs) / (1.0 - sn * sn))
        return bvn * asr / (2.0 * TWO_PI) + _ndtr(-h) * _ndtr(-k)
    if r < 0.0:
        k = -k
        hk = -hk
    as_ = 1.0 / (ca * ca)  # (1 - r)(1 + r) without cancellation
    a = math.sqrt(as_)
    bs = (h - k) * (h - k)
    c = (4.0 - hk) / 8.0
    d = (12.0 - hk) / 16.0
    bvn = a * math.exp(-0.5 * (bs / as_ + hk)) * (
        1.0 - c * (bs - as_) * (1.0 - d * bs / 5.0) / 3.0 + c * d * as_ * as_ / 5.0)
    if hk > -160.0:
        b = math.sqrt(bs)
        bvn -= (math.exp(-0.5 * hk) * math.sqrt(TWO_PI) * _ndtr(-b / a) * b
                * (1.0 - c * bs * (1.0 - d * bs / 5.0) / 3.0))
    a *= 0.5
    for i in range(lg):
        xs = (a * (GL_X[ng, i] + 1.0)) ** 2
        rs = math.sqrt(1.0 - xs)
        bvn += a * GL_W[ng, i] * (math.exp(-bs / (2.0 * xs) - hk / (1.0 + rs)) / rs
                                  - math.exp(-0.5 * (bs / xs + hk)) * (1.0 + c * xs * (1.0 + d * xs)))
        xs = as_ * (-GL_X[ng, i] + 1.0) ** 2 / 4.0
        rs = math.sqrt(1.0 - xs)
        bvn += a * GL_W[ng, i] * math.exp(-0.5 * (bs / xs + hk)) * (
            math.exp(-hk * (1.0 - rs) / (2.0 * (1.0 + rs))) / rs - (1.0 + c * xs * (1.0 + d * xs)))
    bvn = -bvn / TWO_PI
    if r > 0.0:
        return bvn + _ndtr(-max(h, k))
    return -bvn + max(0.0, _ndtr(-h) - _ndtr(-k))


@njit(cache=True, inline="always")
def _log_integrand(x, k, ca, sa):
    """log phi(x) + log Phi(k cosh a - x sinh a) and its first two x-derivatives."""
    m = k * ca - x * sa
    lc, lam = log_ndtr_mills(m)
    value = -0.5 * x * x - LOG_2PI_HALF + lc
    d1 = -x - sa * lam
    d2 = -1.0 - sa * sa * lam * max(m + lam, 0.0)
    return value, d1, d2


@njit(cache=True)
def _drop_point(x0, step, target, k, ca, sa):
    """Where the log-concave integrand falls to ``target``, searching from x0 by ``step``.

    Newton's method on a concave function converges monotonically once it
    starts on the far side of the root; an overshoot only widens the window.
    """
    x = x0 + step
    for _ in range(60):
        v, d1, _ = _log_integrand(x, k, ca, sa)
        if v > target:           # not yet fallen far enough: step out further
            step *= 2.0
            x = x0 + step
            continue
        if d1 == 0.0:
            return x
        nxt = x - (v - target) / d1
        if abs(nxt - x) < 1e-3 * abs(step):
            return x
        x = nxt
    return x


@njit(cache=True)
def _log_panels(c, end, width, k, ca, sa, peak):
    """log of sum over geometric panels from c to end of exp(log f - peak)."""
    total = 0.0
    lo = c
    direction = 1.0 if end > c else -1.0
    span = abs(end - c)
    done = 0.0
    w = width
    while done < span:
        w_here = min(w, span - done)
        hi = lo + direction * w_here
        mid = 0.5 * (lo + hi)
        half = 0.5 * (hi - lo)
        for j in range(PANEL_X.shape[0]):
            v = _log_integrand(mid + half * PANEL_X[j], k, ca, sa)[0]
            total += PANEL_W[j] * abs(half) * math.exp(v - peak)
        done += w_here
        lo = hi
        w *= 2.0
    return total


@njit(cache=True)
def log_bvn_tail(h, k, ca, sa):
    """log Phi2(h, k; rho) by log-concave quadrature (see the module docstring)."""
    # Mode of log f: f' = 0 with f decreasing in x; Newton safeguarded by bisection.
    lo, hi = -1.0, 1.0
    while _log_integrand(lo, k, ca, sa)[1] < 0.0:
        lo *= 2.0
    while _log_integrand(hi, k, ca, sa)[1] > 0.0:
        hi *= 2.0
    x = 0.5 * (lo + hi)
    for _ in range(100):
        _, d1, d2 = _log_integrand(x, k, ca, sa)
        if d1 > 0.0:
            lo = x
        else:
            hi = x
        nxt = x - d1 / d2
        if not (lo < nxt < hi):
            nxt = 0.5 * (lo + hi)
        if abs(nxt - x) <= 1e-12 * (1.0 + abs(x)):
            x = nxt
            break
        x = nxt
    c = min(x, h)
    peak = _log_integrand(c, k, ca, sa)[0]
    width = _local_width(c, k, ca, sa)
    target = peak - TAIL_DROP
    left = _drop_point(c, -4.0 * width, target, k, ca, sa)
    right = min(_drop_point(c, 4.0 * width, target, k, ca, sa), h) if x < h else c
    # Panels are graded from every breakpoint by the local scale of the
    # integrand there: the mode, the upper limit h (it may cut through the step
    # of Phi) and the step of Phi at x = k / rho, which for |rho| -> 1 is sharp
    # (width 1 / |sinh a|) and need not sit at the mode.
    step = k * ca / sa if sa != 0.0 else -math.inf
    total = 0.0
    for lo, hi in ((left, c), (c, right)):
        if hi <= lo:
            continue
        # A drop point needs no grading: the integrand there is e^-40 of its peak.
        w_lo = _local_width(lo, k, ca, sa) if lo == c else hi - lo
        w_hi = _local_width(hi, k, ca, sa) if (hi == c or hi == h) else hi - lo
        if lo < step < hi:
            w_step = _local_width(step, k, ca, sa)
            total += _graded(lo, step, w_lo, w_step, k, ca, sa, peak)
            total += _graded(step, hi, w_step, w_hi, k, ca, sa, peak)
        else:
            total += _graded(lo, hi, w_lo, w_hi, k, ca, sa, peak)
    return peak + math.log(total)


@njit(cache=True)
def _local_width(x, k, ca, sa):
    """A quarter of the length over which log f changes by about 1 near x."""
    _, d1, d2 = _log_integrand(x, k, ca, sa)
    return 0.25 / math.sqrt(-d2 + d1 * d1)


@njit(cache=True)
def _graded(lo, hi, w_lo, w_hi, k, ca, sa, peak):
    """Integral over [lo, hi] with panels graded from both ends to the middle."""
    mid = 0.5 * (lo + hi)
    return (_log_panels(lo, mid, w_lo, k, ca, sa, peak)
            + _log_panels(hi, mid, w_hi, k, ca, sa, peak))


@njit(cache=True)
def log_bvn_cdf(h, k, a):
    """Return (log Phi2, d/dh, d/dk, d/da) of log Phi2(h, k; tanh(a)).

    The derivatives use dPhi2/dh = phi(h) Phi((k - rho h)/sqrt(1 - rho^2)),
    the same in k, and dPhi2/drho = phi2(h, k; rho) with drho/da = 1 - rho^2,
    all formed in log space so that they stay finite where Phi2 underflows.
    """
    ca = math.cosh(a)
    sa = math.sinh(a)
    rho = math.tanh(a)
    p = genz_upper(-h, -k, rho, ca)
    if p >= GENZ_FLOOR:
        log_p = math.log(p)
    else:
        log_p = log_bvn_tail(h, k, ca, sa)
    d_h = math.exp(-0.5 * h * h - LOG_2PI_HALF + log_ndtr_mills(k * ca - h * sa)[0] - log_p)
    d_k = math.exp(-0.5 * k * k - LOG_2PI_HALF + log_ndtr_mills(h * ca - k * sa)[0] - log_p)
    # Quadratic form (h^2 - 2 rho h k + k^2)/(1 - rho^2) without cancellation near |rho| = 1.
    if a >= 0.0:
        q = ca * ca * (h - k) ** 2 + 2.0 * h * k * ca * math.exp(-a)
    else:
        q = ca * ca * (h + k) ** 2 - 2.0 * h * k * ca * math.exp(a)
    # dPhi2/da = (1 - rho^2) phi2 = exp(-q/2) / (2 pi cosh a)
    d_a = math.exp(-0.5 * q - LOG_2PI - math.log(ca) - log_p)
    return log_p, d_h, d_k, d_a


@njit(cache=True)
def log_bvn_cdf_array(h, k, a):
    """Vectorised :func:`log_bvn_cdf` over 1-d arrays (tests and benchmarks)."""
    n = h.shape[0]
    out = np.empty((4, n))
    for j in range(n):
        out[0, j], out[1, j], out[2, j], out[3, j] = log_bvn_cdf(h[j], k[j], a[j])
    return out


@njit(cache=True)
def log_bvn_tail_array(h, k, a):
    """The tail quadrature alone, vectorised (to test it where Genz is used too)."""
    out = np.empty(h.shape[0])
    for j in range(h.shape[0]):
        out[j] = log_bvn_tail(h[j], k[j], math.cosh(a[j]), math.sinh(a[j]))
    return out
