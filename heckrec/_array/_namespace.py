"""Pick the array module (numpy or cupy) and its special functions."""

import numpy as np
import scipy.special


def get_namespace(backend):
    """Return ``(xp, special)`` for ``backend`` in {"numpy", "cupy"}.

    CuPy is imported here, lazily, so ``import heckrec`` never needs it.
    """
    if backend == "numpy":
        return np, scipy.special
    if backend == "cupy":
        try:
            import cupy
            import cupyx.scipy.special
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise ImportError(
                "backend='cupy' needs CuPy and a CUDA GPU: pip install heckrec[gpu]"
            ) from exc
        return cupy, cupyx.scipy.special
    raise ValueError(f"unknown array backend {backend!r}")


def segment_sum(xp, index, values, n):
    """Sum rows of ``values`` (1-d or 2-d) into ``n`` groups given by ``index``."""
    if values.ndim == 1:
        return xp.bincount(index, weights=values, minlength=n)
    out = xp.empty((n, values.shape[1]), dtype=values.dtype)
    for f in range(values.shape[1]):
        out[:, f] = xp.bincount(index, weights=values[:, f], minlength=n)
    return out
