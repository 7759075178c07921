"""Flat parameter vector <-> named MF blocks."""

from types import SimpleNamespace

import numpy as np

#: Blocks of one matrix-factorisation score g = mu + b_u + b_i + <p_u, q_i> + w'x.
MF_BLOCKS = ("mu", "bu", "bi", "P", "Q", "w")


class ParamLayout:
    """Where each named block lives in the flat parameter vector ``theta``.

    Two MF scores (suffix ``_o`` for observation, ``_r`` for the outcome)
    followed by the model's scalar parameters (``a = atanh(rho)``, and
    ``s = log(sigma)`` for the continuous model).

    Parameters
    ----------
    n_users, n_items, n_factors, n_features : int
        Sizes of the MF blocks.
    scalars : tuple of str
        Names of the trailing scalar parameters.
    """

    def __init__(self, n_users, n_items, n_factors, n_features, scalars=("a", "s")):
        shapes = {"mu": (), "bu": (n_users,), "bi": (n_items,), "P": (n_users, n_factors),
                  "Q": (n_items, n_factors), "w": (n_features,)}
        self.shapes = {}
        for tag in ("o", "r"):
            for block in MF_BLOCKS:
                self.shapes[f"{block}_{tag}"] = shapes[block]
        for name in scalars:
            self.shapes[name] = ()
        self.slices = {}
        start = 0
        for name, shape in self.shapes.items():
            size = int(np.prod(shape, dtype=np.int64))
            self.slices[name] = slice(start, start + size)
            start += size
        self.size = start
        self.scalars = tuple(scalars)

    def unpack(self, theta, scalars_as_float=True):
        """Views of ``theta`` by block name.

        Scalar blocks become Python floats, or 1-element views (writable, for
        gradient buffers) when ``scalars_as_float`` is false.
        """
        out = SimpleNamespace()
        for name, shape in self.shapes.items():
            block = theta[self.slices[name]]
            if shape == ():
                block = float(block[0]) if scalars_as_float else block
            else:
                block = block.reshape(shape)
            setattr(out, name, block)
        return out

    def pack(self, blocks, xp=np):
        """Flat vector from a mapping of block name -> array or float."""
        theta = xp.zeros(self.size)
        for name, value in blocks.items():
            theta[self.slices[name]] = xp.asarray(value, dtype=float).ravel()
        return theta

    def index(self, name):
        """Index of a scalar block in ``theta``."""
        return self.slices[name].start

    def curvature_scale(self, pairs, theta, penalty):
        """A positive diagonal that approximates the Hessian's (pair counts based).

        A bias of user u sees n_u pairs, so its curvature is about n_u; a
        factor p_u[f] about n_u * mean_i q_i[f]^2 plus its penalty; mu and w
        about the number of pairs. Used to rescale L-BFGS's variables and as
        the conjugate-gradient preconditioner.
        """
        p = self.unpack(theta)
        n_u = np.diff(pairs.user_ptr).astype(float)
        n_i = np.diff(pairs.item_ptr).astype(float)
        n_obs = float(pairs.o.sum())
        d = np.empty(self.size)
        for tag, n_all in (("o", float(pairs.n_total)), ("r", n_obs)):
            share = 1.0 if tag == "o" else n_obs / pairs.n_pairs
            P, Q = getattr(p, f"P_{tag}"), getattr(p, f"Q_{tag}")
            # a log's selection equation also has every unlisted pair of the grid
            rows_u = pairs.by_user("o") if tag == "o" and pairs.complement else n_u
            rows_i = pairs.by_item("o") if tag == "o" and pairs.complement else n_i
            d[self.slices[f"mu_{tag}"]] = n_all
            d[self.slices[f"bu_{tag}"]] = share * rows_u
            d[self.slices[f"bi_{tag}"]] = share * rows_i
            d[self.slices[f"P_{tag}"]] = share * np.outer(rows_u, np.mean(Q**2, axis=0)
                                                          + 1e-2).ravel()
            d[self.slices[f"Q_{tag}"]] = share * np.outer(rows_i, np.mean(P**2, axis=0)
                                                          + 1e-2).ravel()
            d[self.slices[f"w_{tag}"]] = n_all * (np.mean(pairs.F**2, axis=0) + 1e-12)
        for name in self.scalars:
            d[self.slices[name]] = max(n_obs, 1.0)
        return d + penalty

    def prior_groups(self):
        """Index arrays of the parameter groups that share one prior precision under
        ``rho_criterion="evidence"``: each score's user biases, item biases and factors
        (``P`` with ``Q``: their product is identified, not how a scale splits between
        them, so separate precisions would drift against each other)."""
        def indices(*names):
            return np.concatenate([np.arange(self.slices[n].start, self.slices[n].stop)
                                   for n in names]).astype(np.int64)

        return {f"{part}_{tag}": indices(*names) for tag in ("o", "r")
                for part, names in (("bu", (f"bu_{tag}",)), ("bi", (f"bi_{tag}",)),
                                    ("factors", (f"P_{tag}", f"Q_{tag}")))}

    def penalised_mask(self, xp=np):
        """1.0 where a parameter is an embedding (P, Q), 2.0 for biases (b_u, b_i),
        3.0 for atanh(rho), else 0."""
        mask = xp.zeros(self.size)
        for tag in ("o", "r"):
            mask[self.slices[f"P_{tag}"]] = 1.0
            mask[self.slices[f"Q_{tag}"]] = 1.0
            mask[self.slices[f"bu_{tag}"]] = 2.0
            mask[self.slices[f"bi_{tag}"]] = 2.0
        if "a" in self.slices:
            mask[self.slices["a"]] = 3.0
        return mask
