"""``backend="dask"``: the likelihood passes on the workers of a dask.distributed Client.

The pairs are cut into contiguous ranges of users, balanced by pair count, one per
worker, and scattered once per fit. Each pass sends theta to every worker, which runs the
numba pass (and, for ``unobserved="complement"`` or ``"sampled"``, the sweep of its own
users' unlisted pairs or of their draws) on its part; the partial log-likelihoods and gradients come back and are added in
partition order, so the result does not depend on which worker answers first. Item rows
are summed across partitions by that addition. Transfer per pass: theta to each worker
and one gradient back, 2 x 8 x len(theta) bytes per worker.

Dask is optional (``pip install heckrec[dask]``) and imported only here.
"""

import numpy as np

from ._likelihood import WrappedLikelihood


def current_client():
    """The dask.distributed Client of this process, or a clear error."""
    try:
        from distributed import get_client
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError("backend='dask' needs dask.distributed: pip install heckrec[dask]") \
            from exc
    try:
        return get_client()
    except ValueError:
        raise ValueError("backend='dask' runs the likelihood on the current dask.distributed "
                         "Client, and there is none: create one first, e.g. "
                         "Client(LocalCluster()) or Client('tcp://scheduler:8786')") from None


def partition_by_user(pairs, n_parts):
    """``n_parts`` PairSets of contiguous user ranges with about equal pair counts.

    For a log (``complement``) a part also owns its users' unlisted pairs, so the count
    balanced is of all pairs in the likelihood.
    """
    per_user = (np.full(pairs.n_users, float(pairs.n_items)) if pairs.complement
                else np.diff(pairs.user_ptr).astype(float))
    if pairs.sample is not None:  # "sampled": a user's cost is its logged pairs and draws
        per_user = np.diff(pairs.user_ptr) + np.diff(pairs.sample.ptr).astype(float)
    cumulative = np.concatenate([[0.0], np.cumsum(per_user)])
    bounds = np.searchsorted(cumulative, np.linspace(0, cumulative[-1], n_parts + 1))
    bounds[0], bounds[-1] = 0, pairs.n_users
    bounds = np.unique(np.clip(bounds, 0, pairs.n_users))
    parts = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        part = pairs.subset(np.arange(pairs.user_ptr[start], pairs.user_ptr[stop]))
        part.sweep_users = (int(start), int(stop))
        if pairs.sample is not None:  # unobserved="sampled": the part's users' draws
            part.sample = pairs.sample.restrict(int(start), int(stop))
        parts.append(part)
    return parts


def _part_pass(likelihood, theta, layout, part):
    """One worker's share: (loglik, gradient) of its pairs, on the numba kernels."""
    return likelihood.loglik_grad(theta, layout, part, "numba")


def _part_per_pair(likelihood, theta, layout, part):
    return likelihood.per_pair_loglik(theta, layout, part)


class DaskLikelihood(WrappedLikelihood):
    """``likelihood`` evaluated part by part on the workers of the current Client.

    Parameters
    ----------
    likelihood : object with ``loglik_grad(theta, layout, pairs, backend)``
        What each worker evaluates on its part (the model's likelihood, perhaps with the
        complement's sweep).
    pairs : PairSet
        All the pairs; cut into parts and scattered once (cached on ``pairs``).
    """

    def __init__(self, likelihood, pairs):
        super().__init__(likelihood)
        self.client = current_client()
        cached = getattr(pairs, "_dask_parts", None)
        if cached is None or cached[0] is not self.client:
            workers = list(self.client.scheduler_info()["workers"])
            parts = partition_by_user(pairs, max(1, len(workers)))
            # hash=False: a fit of the same data again (e.g. refitted with rho held at
            # 0) must not share keys with futures of the last fit that are being
            # released, or its tasks fail with "lost dependencies"
            futures = [self.client.scatter(part, workers=[workers[j % len(workers)]],
                                           hash=False)
                       for j, part in enumerate(parts)]
            pairs._dask_parts = (self.client, futures)
        self.parts = pairs._dask_parts[1]

    def _map(self, function, theta, layout):
        theta = np.asarray(theta)
        futures = [self.client.submit(function, self.likelihood, theta, layout, part,
                                      pure=False) for part in self.parts]
        return self.client.gather(futures)  # in partition order

    def loglik_grad(self, theta, layout, pairs, backend="dask"):
        """Return ``(loglik, gradient)``: the parts' sums, added in partition order."""
        results = self._map(_part_pass, theta, layout)
        ll = 0.0
        grad = np.zeros(layout.size)
        for part_ll, part_grad in results:
            ll += part_ll
            grad += part_grad
        return ll, grad

    def per_pair_loglik(self, theta, layout, pairs):
        """Per-pair log-likelihood in the pairs' order (the parts are contiguous in it)."""
        return np.concatenate(self._map(_part_per_pair, theta, layout))
