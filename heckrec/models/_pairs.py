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
    """

    def __init__(self, users, items, r, o, F, n_users, n_items):
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

    @property
    def n_pairs(self):
        return self.users.shape[0]

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
                       self.F[index], self.n_users, self.n_items)


def _pointer(sorted_ids, n):
    """CSR pointer: rows of id k are ``ptr[k]:ptr[k+1]`` of the sorted array."""
    return np.searchsorted(sorted_ids, np.arange(n + 1)).astype(np.int64)
