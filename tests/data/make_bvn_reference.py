"""Write bvn_reference.json: log Phi2(h, k; rho) by 30-digit quadrature (mpmath).

Independent of heckrec's code. Phi2 = int_{-inf}^{h} phi(x) Phi((k - rho x)/s) dx
with s = sqrt(1 - rho^2), by 20-point Gauss-Legendre on panels: a uniform grid
of width 1/16 from 45 below the lowest feature up to h, refined geometrically
(down to 2^-44) towards each place the integrand can turn sharply (h, 0, the
conditional mean rho k, and the step of Phi at k / rho). The integral is
done twice, over x and over y (Phi2 is symmetric in (h, k)); the file keeps
both, and the test uses a case only where they agree.

Run: python tests/data/make_bvn_reference.py  (about 5 minutes on 2 cores)
"""

import itertools
import json
from multiprocessing import Pool
from pathlib import Path

import mpmath as mp
import numpy as np

mp.mp.dps = 30
H_VALUES = [-37.0, -9.0, -3.5, -1.0, 0.3, 2.5, 7.0]
RHO_VALUES = [-1 + 1e-12, -0.99999, -0.95, -0.6, 0.0, 0.35, 0.93, 0.9995, 1 - 1e-12]
_X, _W = np.polynomial.legendre.leggauss(20)
NODES = [mp.mpf(float(x)) for x in _X]
WEIGHTS = [mp.mpf(float(w)) for w in _W]


def log_phi2_over_x(h, k, rho):
    s = mp.sqrt((1 - rho) * (1 + rho))
    centres = [h, mp.mpf(0), rho * k] + ([k / rho] if rho != 0 else [])
    lo = min(centres) - 45
    pts = {c + sgn * mp.mpf(2) ** (-j) for c in centres for sgn in (-1, 1) for j in range(-3, 45)}
    pts |= set(centres) | {lo + j * mp.mpf(1) / 16 for j in range(int((h - lo) * 16) + 1)}
    pts = sorted(p for p in pts if lo <= p < h) + [h]
    total = mp.mpf(0)
    for a, b in zip(pts[:-1], pts[1:]):
        mid, half = (a + b) / 2, (b - a) / 2
        for x, w in zip(NODES, WEIGHTS):
            t = mid + half * x
            total += w * half * mp.npdf(t) * mp.ncdf((k - rho * t) / s)
    return mp.log(total)


def case(args):
    h, k, rho = (mp.mpf(v) for v in args)
    return {"h": args[0], "k": args[1], "rho": args[2],
            "log_phi2_x": float(log_phi2_over_x(h, k, rho)),
            "log_phi2_y": float(log_phi2_over_x(k, h, rho))}


if __name__ == "__main__":
    grid = [(h, k, r) for h, k in itertools.combinations_with_replacement(H_VALUES, 2)
            for r in RHO_VALUES]
    with Pool(2) as pool:
        rows = pool.map(case, grid)
    out = Path(__file__).with_name("bvn_reference.json")
    out.write_text(json.dumps({"source": __doc__.splitlines()[0], "cases": rows}, indent=0))
    print(f"wrote {len(rows)} cases to {out}")
