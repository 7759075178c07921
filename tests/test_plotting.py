"""The profile plot helper (plot extra)."""

import builtins

import numpy as np
import pytest

from heckrec.inference import profile_interval

SE = 0.2


@pytest.fixture
def profile():
    return profile_interval(lambda a: -0.5 * ((a - 0.3) / SE) ** 2, 0.3, 0.0, step=SE,
                            grid=np.linspace(-0.5, 0.8, 14))


def test_plot_profile_draws_the_statistic_and_the_interval(profile):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    ax = profile.plot(wald=(0.0, 0.6))
    x, y = ax.lines[0].get_data()
    evaluated = np.isin(x, profile.rho)
    np.testing.assert_allclose(x[evaluated], profile.rho)
    np.testing.assert_allclose(y[evaluated], profile.lr_statistic)
    assert ax.lines[1].get_ydata()[0] == pytest.approx(profile.crit)  # the chi2 quantile
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    lo, hi = profile.interval
    assert f"profile interval [{lo:.3f}, {hi:.3f}]" in labels
    assert "Wald [0.000, 0.600]" in labels
    # issue 17: the estimate on the curve at LR = 0, the x range zoomed to the intervals
    # (a margin of half their span), the legend outside the axes
    assert np.min(y) == pytest.approx(0.0, abs=1e-12)
    assert x[np.argmin(y)] == pytest.approx(profile.rho_hat, abs=1e-12)
    span = max(hi, 0.6) - min(lo, 0.0)
    assert ax.get_xlim() == pytest.approx((min(lo, 0.0) - span / 2, max(hi, 0.6) + span / 2))
    assert ax.get_legend().get_bbox_to_anchor().x0 > ax.get_window_extent().x1 - 1


def test_plot_without_matplotlib_names_the_extra(profile, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(ImportError, match=r"heckrec\[plot\]"):
        profile.plot()
