"""Does the Laplace approximation's next term move the evidence's rho_? (issue 15)

BivariateProbitMF's default (biases only, rho and the precisions by the evidence) is fitted
on the 400 x 300 binary grid of docs/inference.md (density 0.3, rho -0.8 and 0.8, seeds
1000 on). At the fit's precisions, log m is profiled at atanh(rho_) + (-0.2, -0.1, 0, 0.1,
0.2), each point a penalised fit at fixed rho, with and without the second-order term of
Laplace's method for the rows' integral; the table gives the maximiser of the parabola
through each profile.

The second-order term (Shun and McCullagh 1995, eq. 3; Raudenbush, Yang and Yosef 2000,
eq. 14): for I = int exp(l(b)) db with mode b^ and h = (-l''(b^))^{-1},

    log I = Laplace + 1/8 l_abcd h^ab h^cd + 1/8 l_abc l_def h^ab h^cd h^ef
                    + 1/12 l_abc l_def h^ad h^be h^cf

(the 1-D case: l4 / (8 H^2) + 5 l3^2 / (24 H^3)). Here b is every user's and item's
(b_o, b_r) and a pair's log-likelihood depends on them only through g = (g_o, g_r) = mu +
b_u + b_i, so its derivatives in b are those in g (L3_p, L4_p) on the pair's two rows. With
h block-diagonal (h_u, h_i the 2 x 2 inverses of the rows' blocks) and M_p = h_u + h_i:

    T1 = 1/8 sum_p L4_p : M_p M_p
    T2 = 1/8 sum_rows v_R' h_R v_R,   v_R = sum over R's pairs of L3_p : M_p
    T3 = 1/12 [sum_rows S(L3_R, h_R) + sum_p (S(L3_p, M_p) - S(L3_p, h_u) - S(L3_p, h_i))]

with L3_R the sum of L3_p over R's pairs and S(A, h) = A_abc A_def h^ad h^be h^cf. The
script first checks the formula on one row against scipy's 2-D quadrature (a user with 12
pairs, the items held fixed), where the whole expansion is exact to its next order.

Run: python benchmarks/laplace_second_order.py [--seeds N]
"""

import argparse
import time
import warnings

import numpy as np
from _common import write
from scipy.integrate import dblquad
from scipy.optimize import minimize
from sklearn.base import clone

from heckrec import BivariateProbitMF
from heckrec._kernels.bivariate_probit import exact_terms
from heckrec.datasets import make_selection_mf
from heckrec.models._base import SelectionMFBase
from heckrec.models._laplace import pair_curvature, row_blocks
from heckrec.models._likelihood import pair_scores



#: Step of the central differences that take the analytic first derivatives to the third
#: and fourth: truncation O(step^2), about 1e-4 relative; rounding about 1e-13 / step^3.
HIGHER_STEP = 1e-2


def pair_higher_derivatives(derivatives, g_o, g_r, step=HIGHER_STEP):
    """Per-pair third and fourth derivatives of the log-likelihood in (g_o, g_r).

    ``derivatives(g_o, g_r)`` returns the analytic (dl/dg_o, dl/dg_r); their second and
    third central differences on a 13-point stencil give the rest.

    Returns
    -------
    L3 : ndarray of shape (n, 2, 2, 2)
    L4 : ndarray of shape (n, 2, 2, 2, 2)
        Symmetric in their last indices; index 0 is g_o, 1 is g_r.
    """
    values = {}
    for i, j in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (1, -1), (-1, 1),
                 (-1, -1), (2, 0), (-2, 0), (0, 2), (0, -2)):
        values[i, j] = derivatives(g_o + i * step, g_r + j * step)

    def second(c, i, j):  # d2 d_c / d g_i d g_j
        f = {key: v[c] for key, v in values.items()}
        if i == j == 0:
            return (f[1, 0] - 2 * f[0, 0] + f[-1, 0]) / step**2
        if i == j == 1:
            return (f[0, 1] - 2 * f[0, 0] + f[0, -1]) / step**2
        return (f[1, 1] - f[1, -1] - f[-1, 1] + f[-1, -1]) / (4 * step**2)

    def third(c, n_r):  # d3 d_c / d g_o^(3 - n_r) d g_r^n_r
        f = {key: v[c] for key, v in values.items()}
        if n_r == 0:
            return (f[2, 0] - 2 * f[1, 0] + 2 * f[-1, 0] - f[-2, 0]) / (2 * step**3)
        if n_r == 3:
            return (f[0, 2] - 2 * f[0, 1] + 2 * f[0, -1] - f[0, -2]) / (2 * step**3)
        if n_r == 1:  # d/dg_r of the second difference in g_o
            return ((f[1, 1] - 2 * f[0, 1] + f[-1, 1])
                    - (f[1, -1] - 2 * f[0, -1] + f[-1, -1])) / (2 * step**3)
        return ((f[1, 1] - 2 * f[1, 0] + f[1, -1])
                - (f[-1, 1] - 2 * f[-1, 0] + f[-1, -1])) / (2 * step**3)

    n = g_o.shape[0]
    L3 = np.empty((n, 2, 2, 2))
    # by the number of r indices: ooo, oor, orr from d_o; rrr from d_r
    by_count3 = [second(0, 0, 0), second(0, 0, 1), second(0, 1, 1), second(1, 1, 1)]
    L4 = np.empty((n, 2, 2, 2, 2))
    by_count4 = [third(0, 0), third(0, 1), third(0, 2), third(0, 3), third(1, 3)]
    for index in np.ndindex(2, 2, 2):
        L3[(slice(None), *index)] = by_count3[sum(index)]
    for index in np.ndindex(2, 2, 2, 2):
        L4[(slice(None), *index)] = by_count4[sum(index)]
    return L3, L4


def _sextic(A, h):
    """S(A, h) = A_abc A_def h^ad h^be h^cf for a batch of A (n, 2, 2, 2) and h (n, 2, 2)."""
    return np.einsum("nabc,ndef,nad,nbe,ncf->n", A, A, h, h, h)


def second_order_term(users, items, L3, L4, h_users, h_items):
    """T1 + T2 + T3 of the module's expansion.

    Parameters
    ----------
    users, items : ndarray of int, shape (n,)
        Each pair's user and item codes.
    L3, L4 : the pairs' derivatives (:func:`pair_higher_derivatives`).
    h_users, h_items : ndarray of shape (n_users, 2, 2), (n_items, 2, 2)
        The inverses of the rows' 2 x 2 blocks of H_rows, in the order (b_o, b_r).

    Returns
    -------
    float
    """
    hu, hi = h_users[users], h_items[items]
    M = hu + hi
    t1 = np.einsum("nabcd,nab,ncd->", L4, M, M) / 8.0
    contracted = np.einsum("nabc,nab->nc", L3, M)
    t2 = 0.0
    t3_rows = 0.0
    for codes, h in ((users, h_users), (items, h_items)):
        v = np.zeros((h.shape[0], 2))
        np.add.at(v, codes, contracted)
        t2 += np.einsum("na,nab,nb->", v, h, v) / 8.0
        L3_rows = np.zeros((h.shape[0], 2, 2, 2))
        np.add.at(L3_rows, codes, L3)
        t3_rows += _sextic(L3_rows, h).sum()
    t3_pairs = (_sextic(L3, M) - _sextic(L3, hu) - _sextic(L3, hi)).sum()
    return float(t1 + t2 + (t3_rows + t3_pairs) / 12.0)


def one_row_check():
    """log I of one row (b_o, b_r) under a N(0, 1/4) prior, 12 pairs at rho 0.7: by 2-D
    quadrature, by Laplace, and with the second-order term."""
    rng = np.random.default_rng(0)
    n, a, lam = 12, np.arctanh(0.7), 4.0
    g_o0, g_r0 = rng.normal(0, 0.5, n) - 0.3, rng.normal(0, 0.5, n)
    o = (rng.random(n) < 0.6).astype(np.int8)
    r = (rng.random(n) < 0.5).astype(float)

    def derivatives(g_o, g_r):
        d_o, d_r = np.empty_like(g_o), np.empty_like(g_o)
        exact_terms(np.ascontiguousarray(g_o), np.ascontiguousarray(g_r), r, o, a, d_o, d_r)
        return d_o, d_r

    def minus_l(b):
        d_o, d_r = np.empty(n), np.empty(n)
        loglik, _ = exact_terms(g_o0 + b[0], g_r0 + b[1], r, o, a, d_o, d_r)
        return (-(loglik - lam / 2 * b @ b),
                -np.array([d_o.sum() - lam * b[0], d_r.sum() - lam * b[1]]))

    mode = minimize(minus_l, np.zeros(2), jac=True, method="BFGS", options={"gtol": 1e-10})
    b = mode.x
    H = np.empty((2, 2))
    for k in range(2):
        e = np.eye(2)[k] * 1e-5
        H[:, k] = (minus_l(b + e)[1] - minus_l(b - e)[1]) / 2e-5
    H = (H + H.T) / 2
    laplace = -mode.fun + np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(H)[1]
    L3, L4 = pair_higher_derivatives(derivatives, g_o0 + b[0], g_r0 + b[1])
    term = second_order_term(np.zeros(n, int), np.zeros(n, int), L3, L4,
                             np.linalg.inv(H)[None], np.zeros((1, 2, 2)))
    sd = np.sqrt(np.diag(np.linalg.inv(H)))
    value, _ = dblquad(lambda y, x: np.exp(-minus_l(np.array([x, y]))[0] + mode.fun),
                       b[0] - 10 * sd[0], b[0] + 10 * sd[0], b[1] - 10 * sd[1],
                       b[1] + 10 * sd[1], epsabs=1e-12, epsrel=1e-10)
    exact = np.log(value) - mode.fun
    return exact, laplace, laplace + term


def with_term(est, X, r, o, offsets=(-0.2, -0.1, 0.0, 0.1, 0.2)):
    """Maximisers of log m and of log m + the second-order term over atanh(rho_) + offsets,
    at the fit's precisions."""
    inner = clone(est).set_params(warm_start=True, compute_se=False, rho_criterion="laplace")
    inner._prior_precisions = dict(est.prior_precisions_)
    inner.classes_, inner._draws = est.classes_, None
    a0 = np.arctanh(est.rho_)
    log_m, terms = [], []
    keep = SelectionMFBase._log_marginal

    def log_marginal(self, objective):  # the term from the same state as log m
        pairs, p = self._pairs, self._layout.unpack(self.theta_)
        g_o, g_r = pair_scores(self.theta_, self._layout, pairs)
        derivatives = self._pair_derivatives(pairs, p)
        listed = (pairs.users, pairs.items, *pair_curvature(derivatives, g_o, g_r))
        users, items = row_blocks(self._layout, p, objective.penalty, listed)
        L3, L4 = pair_higher_derivatives(derivatives, g_o, g_r)
        terms.append(second_order_term(pairs.users, pairs.items, L3, L4,
                                       np.linalg.inv(users[0]), np.linalg.inv(items[0])))
        return keep(self, objective)

    SelectionMFBase._log_marginal = log_marginal
    try:
        for offset in offsets:
            inner.set_params(fixed_rho=float(np.tanh(a0 + offset)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                SelectionMFBase.fit(inner, X, r, o)
            log_m.append(inner.log_marginal_)
    finally:
        SelectionMFBase._log_marginal = keep
    a = np.asarray(offsets)

    def vertex(y):
        c = np.polyfit(a, y, 2)
        return float(np.tanh(a0 - c[1] / (2 * c[0])))

    log_m, terms = np.array(log_m), np.array(terms)
    return vertex(log_m), vertex(log_m + terms), terms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    exact, laplace, corrected = one_row_check()
    check = (f"One-row check against 2-D quadrature: log I {exact:.6f}, Laplace error "
             f"{laplace - exact:+.5f}, with the second-order term {corrected - exact:+.5f}.")
    print(check)
    rows = []
    for rho in (-0.8, 0.8):
        for seed in range(1000, 1000 + args.seeds):
            X, r, o, _ = make_selection_mf(400, 300, n_factors=0, rho=rho, density=0.3,
                                           outcome="binary", random_state=seed)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est = BivariateProbitMF(random_state=0, if_not_identified="estimate")
                est.fit(X, r, o)
            seconds = time.perf_counter() - start
            plain, corrected, terms = with_term(est, X, r, o)
            rows.append({"true rho": f"{rho:+.1f}", "seed": seed,
                         "rho_ (default)": f"{est.rho_:+.4f}",
                         "rho_se_": f"{est.rho_se_:.4f}", "fit s": f"{seconds:.1f}",
                         "profile's maximiser": f"{plain:+.4f}",
                         "with the second-order term": f"{corrected:+.4f}",
                         "moved by": f"{corrected - plain:+.4f}",
                         "term at the ends": f"{terms[0]:.2f} / {terms[-1]:.2f}"})
            print(rows[-1], flush=True)
    write("laplace_second_order", rows, list(rows[0]),
          note="BivariateProbitMF() (the evidence on biases only) on make_selection_mf(400, "
               "300, biases only, density 0.3, binary); log m profiled at atanh(rho_) + "
               "(-0.2 ... 0.2) at the fit's precisions, with and without the second-order "
               "term of Laplace's method (block-diagonal h). " + check)


if __name__ == "__main__":
    main()
