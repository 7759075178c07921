"""Training pairs sorted by user, with the item index used by the kernels."""

import numpy as np


class PairSet:
    """User-item pairs sorted by user, with CSR pointers by user and by item.

    Sorting once per fit lets the gradient kernels reduce per-pair
    derivatives into user rows and item rows without races (GUIDE section 4).

    Parameters
    ----------
    users, items : ndarray of int
        Encoded ids, ``0 <= users < n_users``.
    r : ndarray of float
        Outcome; only read where ``o`` is true (set to 0 elsewhere here).
    o : ndarray of bool
        Observation indicator.
    F : ndarray of shape (n_pairs, n_features)
        Side features of each pair.
    complement : bool, default=False
        The pairs are a log (all observed) and every other pair of the
        ``n_users x n_items`` grid is unobserved (``unobserved="complement"``):
        the likelihood then adds those pairs' term from the factors
        (:mod:`heckrec.models._complement`) without listing them.
    """

    def __init__(self, users, items, r, o, F, n_users, n_items, complement=False):
        order = np.argsort(users, kind="stable")
        self.users = np.ascontiguousarray(users[order], dtype=np.int64)
        self.items = np.ascontiguousarray(items[order], dtype=np.int64)
        self.o = np.ascontiguousarray(o[order], dtype=np.bool_)
        self.r = np.where(self.o, r[order], 0.0).astype(np.float64)
        self.F = np.ascontiguousarray(F[order], dtype=np.float64)
        self.n_users, self.n_items = int(n_users), int(n_items)
        self.user_ptr = _pointer(self.users, self.n_users)
        self.item_order = np.argsort(self.items, kind="stable").astype(np.int64)
        self.item_ptr = _pointer(self.items[self.item_order], self.n_items)
        self.complement = bool(complement)
        # The users whose unlisted pairs this set's likelihood sweeps (a partition's
        # range under backend="dask"; every user otherwise).
        self.sweep_users = (0, self.n_users)
        # unobserved="sampled": the drawn unlisted pairs (heckrec.models._sampled), which
        # then stand for the unlisted pairs in the likelihood.
        self.sample = None

    @property
    def n_pairs(self):
        """Number of listed pairs (the rows of X)."""
        return self.users.shape[0]

    @property
    def n_unlisted(self):
        """Unobserved pairs the likelihood counts without listing (0 unless ``complement``)."""
        if not self.complement:
            return 0
        start, stop = self.sweep_users
        listed = int(self.user_ptr[stop] - self.user_ptr[start])
        return (stop - start) * self.n_items - listed

    @property
    def n_total(self):
        """All pairs in the likelihood: listed plus unlisted."""
        return self.n_pairs + self.n_unlisted

    @property
    def observed_share(self):
        """Share of the likelihood's pairs that are observed."""
        return float(self.o.sum()) / max(1, self.n_total)

    def by_user(self, tag):
        """Pairs per user in the ``tag`` equation ("o": selection, "r": outcome)."""
        if tag == "o" and self.complement:
            return np.full(self.n_users, float(self.n_items))
        mask = self.o if tag == "r" else np.ones(self.n_pairs, dtype=bool)
        return np.bincount(self.users[mask], minlength=self.n_users).astype(float)

    def by_item(self, tag):
        """Pairs per item in the ``tag`` equation."""
        if tag == "o" and self.complement:
            return np.full(self.n_items, float(self.n_users))
        mask = self.o if tag == "r" else np.ones(self.n_pairs, dtype=bool)
        return np.bincount(self.items[mask], minlength=self.n_items).astype(float)

    def workspace(self, count=2):
        """``count`` per-pair float buffers, allocated once per PairSet and reused.

        The kernels use the first two for dl/dg_o and dl/dg_r; the binary model
        also keeps the scores g_o, g_r in the next two.
        """
        buffers = getattr(self, "_workspace", [])
        while len(buffers) < count:
            buffers.append(np.empty(self.n_pairs))
        self._workspace = buffers
        return tuple(buffers[:count])

    def on_device(self, xp):
        """The pair arrays as ``xp`` arrays (cached; a no-op for numpy)."""
        if xp is np:
            return self
        if getattr(self, "_device", (None,))[0] is not xp:
            arrays = {k: xp.asarray(getattr(self, k)) for k in ("users", "items", "r", "o", "F")}
            self._device = (xp, type("DevicePairs", (), arrays))
        return self._device[1]

    def subset(self, index):
        """The pairs at ``index`` (positions in this sorted set) as a new PairSet."""
        index = np.sort(index)
        return PairSet(self.users[index], self.items[index], self.r[index], self.o[index],
                       self.F[index], self.n_users, self.n_items, self.complement)


def _pointer(sorted_ids, n):
    """CSR pointer: rows of id k are ``ptr[k]:ptr[k+1]`` of the sorted array."""
    return np.searchsorted(sorted_ids, np.arange(n + 1)).astype(np.int64)
