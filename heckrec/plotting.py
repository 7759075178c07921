"""Plots for notebooks (needs the ``plot`` extra: ``pip install heckrec[plot]``)."""


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:  # matplotlib is an optional dependency
        raise ImportError("plotting needs matplotlib: pip install 'heckrec[plot]'") from err
    return plt


def plot_profile(profile, ax=None, wald=None):
    """Plot the likelihood-ratio statistic of a profile likelihood of rho, interval marked.

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
    if ax is None:
        ax = _pyplot().subplots(figsize=(6, 4))[1]
    ax.plot(profile.rho, profile.lr_statistic, "o-", ms=3, label="2 (max loglik - profile)")
    ax.axhline(profile.crit, color="grey", ls="--", lw=1,
               label=f"chi2(1) {1 - profile.alpha:.0%} quantile")
    lo, hi = profile.interval
    ax.axvspan(lo, hi, color="C0", alpha=0.15,
               label=f"profile interval [{lo:.3f}, {hi:.3f}]")
    ax.axvline(profile.rho_hat, color="C0", lw=1)
    if wald is not None:
        for end in wald:
            ax.axvline(end, color="C1", ls=":", lw=1.5)
        ax.plot([], [], color="C1", ls=":", label=f"Wald [{wald[0]:.3f}, {wald[1]:.3f}]")
    ax.set_xlabel("rho")
    ax.set_ylabel("likelihood-ratio statistic")
    ax.set_ylim(bottom=min(0.0, float(profile.lr_statistic.min())),
                top=max(3 * profile.crit, 1.0))
    ax.legend(fontsize="small")
    return ax
