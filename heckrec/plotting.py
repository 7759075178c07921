"""Plots for notebooks (needs the ``plot`` extra: ``pip install heckrec[plot]``)."""


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # matplotlib is an optional dependency
        raise ImportError("plotting needs matplotlib: pip install 'heckrec[plot]'") from err
    return plt


def plot_profile(profile, ax=None, wald=None):
    """Plot the likelihood-ratio statistic of a profile likelihood of rho, interval marked.

    The curve passes through the estimate, where the statistic is 0; the x range is
    the interval (and a Wald interval, if given) with a margin of half its width, and
    the legend sits outside the axes, off the curve.

    Parameters
    ----------
    profile : heckrec.inference.ProfileLikelihood
    ax : matplotlib Axes, optional
        Axes to draw on (default: a new figure's).
    wald : (lower, upper), optional
        A Wald interval to mark beside the profile one.

    Returns
    -------
    matplotlib Axes
    """
    import numpy as np

    if ax is None:
        ax = _pyplot().subplots(figsize=(7, 4), layout="constrained")[1]
    rho, lr = profile.rho, profile.lr_statistic
    if not np.any(np.isclose(rho, profile.rho_hat, rtol=0, atol=1e-12)):
        # the estimate is where the profile bottoms (LR = 0): put it on the curve
        at = np.searchsorted(rho, profile.rho_hat)
        rho, lr = np.insert(rho, at, profile.rho_hat), np.insert(lr, at, 0.0)
    ax.plot(rho, lr, "o-", ms=3, label="2 (max loglik - profile)")
    ax.axhline(profile.crit, color="grey", ls="--", lw=1,
               label=f"chi2(1) {1 - profile.alpha:.0%} quantile")
    lo, hi = profile.interval
    ax.axvspan(lo, hi, color="C0", alpha=0.15,
               label=f"profile interval [{lo:.3f}, {hi:.3f}]")
    ax.plot([profile.rho_hat], [0.0], "D", color="C3", ms=6, zorder=3,
            label=f"estimate {profile.rho_hat:.3f}")
    ends = [lo, hi]
    if wald is not None:
        for end in wald:
            ax.axvline(end, color="C1", ls=":", lw=1.5)
        ax.plot([], [], color="C1", ls=":", label=f"Wald [{wald[0]:.3f}, {wald[1]:.3f}]")
        ends += [e for e in wald if np.isfinite(e)]
    margin = 0.5 * (max(ends) - min(ends)) or 0.1
    ax.set_xlim(max(-1.0, min(ends) - margin), min(1.0, max(ends) + margin))
    ax.set_xlabel("rho")
    ax.set_ylabel("likelihood-ratio statistic")
    ax.set_ylim(bottom=min(0.0, float(np.min(lr))) - 0.05 * profile.crit,
                top=max(3 * profile.crit, 1.0))
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    return ax
