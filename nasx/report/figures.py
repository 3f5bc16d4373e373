"""Report figures (seaborn/matplotlib on the Agg backend), returned as base64 PNG strings.

Every figure draws numbers that are also in summary.json: EDFs and bands, trend lines, Pareto
fronts, best-of-k, stage profiles, and the per-trial points of the scatter plots.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pandas as pd

from nasx.analysis.compare import fmt_p
from nasx.analysis.edf import EDF, edf
from nasx.analysis.results import PairComparison, Summary
from nasx.analysis.trends import Trend
from nasx.fmt import si

DPI = 90
BANDS_UP_TO = 4  # more runs than this: EDF bands are left out (they would hide the curves)
MAX_NORMALIZED_PANELS = 12


def _setup() -> tuple[Any, Any]:
    """Import matplotlib (Agg, no display needed) and seaborn lazily."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    return plt, sns


def _png(fig: Any) -> str:
    """Encode and close a figure."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    if fig.get_layout_engine() is None:
        fig.tight_layout()  # cheaper than bbox_inches="tight", which draws the figure twice
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _colors(summary: Summary) -> dict[str, tuple[float, float, float]]:
    """One colour per run."""
    names = [r.name for r in summary.runs]
    _, sns = _setup()
    return dict(zip(names, sns.color_palette("colorblind", max(3, len(names))), strict=False))


def _step(ax: Any, e: EDF, color: Any, label: str, ls: str = "-", band: bool = True) -> None:
    """Draw an EDF (value after each jump) and, with ``band``, its band as steps from 0."""
    x = np.asarray(e.x, dtype=float)
    if x.size == 0:
        return
    xs = np.concatenate([[x[0]], x])
    ys = np.concatenate([[0.0], e.F_after])
    ax.step(xs, ys, where="post", color=color, ls=ls, lw=2, label=label)
    if not band:
        return
    lo = np.concatenate([[0.0], e.lower])
    hi = np.concatenate([[min(1.0, e.eps)], e.upper])
    ax.fill_between(xs, lo, hi, step="post", color=color, alpha=0.15, lw=0)


def _noise_band(ax: Any, e: EDF, sd: float, color: Any, label: str) -> None:
    """The EDF moved left and right by the seed-noise floor: how far one retraining may move it."""
    x = np.asarray(e.x, dtype=float)
    if x.size == 0:
        return
    ys = np.concatenate([[0.0], e.F_after])
    xs = np.concatenate([[x[0]], x])
    ax.fill_betweenx(ys, xs - sd, xs + sd, step="post", color=color, alpha=0.1, hatch="//",
                     lw=0, label=label)


def edf_figure(summary: Summary) -> str:
    """Overlay of the runs' error EDFs (see :func:`edf_plot`) as a base64 PNG."""
    return _png(edf_plot(summary))


def edf_plot(summary: Summary) -> Any:
    """The figure of the runs' error EDFs with their DKW bands (up to BANDS_UP_TO runs); refine
    EDFs dashed; a hatched band of +- the seed-noise floor where ``nasx fidelity`` measured one.
    The legend sits beside the axes, so it never covers a curve."""
    plt, _ = _setup()
    colors = _colors(summary)
    band = len(summary.runs) <= BANDS_UP_TO
    fig, ax = plt.subplots(figsize=(9.5, 4.5), layout="constrained")
    for r in summary.runs:
        c = colors[r.name]
        _step(ax, r.edf, c, f"{r.name} (n = {r.edf.n})", band=band)
        floor = r.fidelity.noise_floor if r.fidelity is not None else None
        if floor:
            _noise_band(ax, r.edf, floor, c, f"{r.name} ± seed-noise floor ({floor:.2f}%)")
        if r.refine_edf:
            _step(ax, r.refine_edf, c, f"{r.name} refine (n = {r.refine_edf.n})", ls="--",
                  band=band)
        other = r.other_recipe.edf
        if other:
            _step(ax, other, c, f"{r.name} other recipe (n = {other.n})", ls=":", band=band)
    ax.set(xlabel=summary.settings.error, ylabel="cumulative prob.",
           title="error EDF of sampled models", ylim=(0, 1.02))
    fig.legend(loc="outside right upper", fontsize=8)
    return fig


def normalized_panels(summary: Summary) -> list[tuple[PairComparison, str]]:
    """(pair, measure) of every normalised comparison that carries a pair's conclusion."""
    return [(c, k) for c in summary.comparisons if c.verdict.carried_by == "normalized"
            for k in c.verdict.normalized_by]


def normalized_figure(summary: Summary) -> str:
    """One panel per carrying normalised comparison: the two re-weighted EDFs it compares, with
    its D and permutation p (the verdict's numbers) in the title."""
    plt, _ = _setup()
    colors = _colors(summary)
    panels = normalized_panels(summary)[:MAX_NORMALIZED_PANELS]
    ncol = min(3, len(panels))
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 3.4 * nrow), squeeze=False,
                             layout="constrained")
    for ax, (c, key) in zip(axes.flat, panels, strict=False):
        n = c.verdict.normalized[key]
        if n.samples is None:
            continue
        ea, wa, eb, wb = n.samples
        for name, e, w in ((c.plain.a, ea, wa), (c.plain.b, eb, wb)):
            fe = edf(e, w, summary.settings.alpha)
            _step(ax, fe, colors[name], f"{name} (n_eff {fe.n_eff:.0f})")
        ax.set_title(f"{c.plain.a} vs {c.plain.b}, by {key}\nD = {n.ks_statistic:.2f},"
                     f" permutation p = {fmt_p(n.ks_pvalue_permutation or 1.0)}", fontsize=9)
        ax.set(xlabel=summary.settings.error, ylabel="cumulative prob.", ylim=(0, 1.02))
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle("complexity-normalised error EDFs of the pairs they decide")
    return _png(fig)


def points_frame(summary: Summary) -> pd.DataFrame:
    """The per-trial points of every run as one frame (run, origin, error, complexity, values)."""
    frames = [r.points.assign(run=r.name) for r in summary.runs]
    return pd.concat(frames, ignore_index=True)


def _short(v: float, _pos: object = None) -> str:
    """Compact tick label: 2K, 1.5M, 3G, 0.05."""
    return si(v)


def _log_axis(ax: Any, values: pd.Series) -> None:
    """Log x axis with a few short labels (no overlapping minor labels on narrow ranges)."""
    from matplotlib import ticker

    v = values.to_numpy(dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    decades = np.log10(v.max() / v.min()) if v.size else 1.0
    ax.set_xscale("log")
    subs = (1.0,) if decades > 2.5 else (1.0, 2.0, 5.0) if decades > 0.7 else (1.0, 1.5, 2, 3, 5, 7)
    ax.xaxis.set_major_locator(ticker.LogLocator(base=10, subs=subs))
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(_short))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


def _trend_line(ax: Any, tr: Trend | None, color: Any) -> None:
    if tr and tr.binned:
        ax.plot([b.x for b in tr.binned], [b.median_error for b in tr.binned],
                color=color, lw=1.8, marker="D", ms=4)


def scatter_figure(summary: Summary, columns: list[str], title: str) -> str:
    """Error against each column: sampled as dots, refine as crosses, binned-median trend lines
    per run, and the Pareto front on the flops panel."""
    plt, sns = _setup()
    pts = points_frame(summary)
    colors = _colors(summary)
    ncol = min(3, len(columns))
    nrow = -(-len(columns) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.4 * nrow), squeeze=False)
    markers = {"sampled": "o", "refine": "X", "other recipe": "s"}
    # Trials of another recipe are one group whatever their origin: they are apart.
    pts["group"] = pts["origin"].where(pts["in_population"].astype(bool), "other recipe")
    for ax, col in zip(axes.flat, columns, strict=False):
        sub = pts[pts[col].notna()] if col in pts else pts.iloc[0:0]
        # Plain scatter calls per (run, group): same look as seaborn's hue/style, much faster.
        for (run, group), g in sub.groupby(["run", "group"], sort=False):
            ax.scatter(g[col], g["error"], s=14 if group == "sampled" else 24,
                       marker=markers.get(group, "o"), color=colors[run],
                       alpha=0.55 if group == "sampled" else 0.9, lw=0,
                       label=f"{run} {group}", zorder=2 if group == "sampled" else 3)
        for r in summary.runs:
            tr = r.trend(col)
            _trend_line(ax, tr, colors[r.name])
            if tr and tr.x_scale == "log10":
                _log_axis(ax, sub[col])
            if col == "flops" and r.pareto_flops:
                front = r.pareto_flops
                ax.step([p.value for p in front], [p.error for p in front], where="post",
                        color=colors[r.name], ls=":", lw=1.5)
        ax.set(xlabel=col, ylabel=summary.settings.error)
    for ax in list(axes.flat)[len(columns):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle(title)
    return _png(fig)


def best_of_k_figure(summary: Summary) -> str:
    """Expected best error among k random models with its 2.5-97.5% range."""
    plt, _ = _setup()
    colors = _colors(summary)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for r in summary.runs:
        rows = r.best_of_k
        k = np.array([b.k for b in rows], dtype=float)
        ax.plot(k, [b.mean for b in rows], marker="o", color=colors[r.name], label=r.name)
        ax.fill_between(k, [b.p2_5 for b in rows], [b.p97_5 for b in rows],
                        color=colors[r.name], alpha=0.15, lw=0)
    ax.set_xscale("log", base=2)
    ax.set(xlabel="k (models trained)", ylabel=f"best {summary.settings.error}",
           title="best of k random models")
    ax.legend(fontsize=8)
    return _png(fig)


def _stage_bars(ax: Any, summary: Summary, key: str,
                colors: dict[str, tuple[float, float, float]]) -> None:
    """Quartile bars of ``key`` per stage, top models solid, all models dotted, per run."""
    for i, r in enumerate(summary.runs):
        prof = r.stage_profiles
        for group, ls, dx in (("top", "-", -0.06), ("all", ":", 0.06)):
            rows = [(s.stage, q) for s in prof.stages if (q := s.get(group, key))]
            x = np.array([st for st, _ in rows], dtype=float) + dx + 0.02 * i
            med = np.array([q.median for _, q in rows])
            err = np.array([[q.median - q.q25 for _, q in rows],
                            [q.q75 - q.median for _, q in rows]])
            n = prof.n_top if group == "top" else prof.n_all
            ax.errorbar(x, med, yerr=err, ls=ls, marker="o", capsize=3, color=colors[r.name],
                        label=f"{r.name} {group} ({n})")


def stage_figure(summary: Summary) -> str:
    """Median (and quartiles) of stage widths and depths of the top models vs all models."""
    plt, _ = _setup()
    colors = _colors(summary)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    top_frac = summary.runs[-1].stage_profiles.top_frac
    for ax, key in zip(axes, ("width", "depth"), strict=True):
        _stage_bars(ax, summary, key, colors)
        ax.set(xlabel="stage", ylabel=key, title=f"stage {key}: best {100 * top_frac:.0f}%"
               " vs all")
        ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    axes[0].legend(fontsize=7)
    return _png(fig)


MAX_LATENCY_PANELS = 6


def latency_panels(summary: Summary) -> list[tuple[str, str, int]]:
    """The (key, device, threads) of every latency view of the runs, in the order the first run
    ranks them, at most MAX_LATENCY_PANELS."""
    out: list[tuple[str, str, int]] = []
    for r in summary.runs:
        for v in r.latency or []:
            if (v.key, v.device, v.threads) not in out:
                out.append((v.key, v.device, v.threads))
    return out[:MAX_LATENCY_PANELS]


def latency_figure(summary: Summary) -> str:
    """Error against measured latency (log x), one panel per backend/device/batch: sampled as
    dots, refine as crosses, and each run's Pareto front of (latency, error) as a dotted step line
    through ringed points."""
    plt, _ = _setup()
    colors = _colors(summary)
    panels = latency_panels(summary)
    ncol = min(3, len(panels))
    nrow = -(-len(panels) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.4 * ncol, 3.6 * nrow), squeeze=False)
    for ax, (key, device, threads) in zip(axes.flat, panels, strict=False):
        title = ""
        xs: list[float] = []
        for r in summary.runs:
            v = next((v for v in r.latency or [] if (v.key, v.device, v.threads)
                      == (key, device, threads)), None)
            if v is None:
                continue
            title = v.caption()
            c = colors[r.name]
            for origin, marker, size in (("sampled", "o", 14), ("refine", "X", 26)):
                pts = [p for p in v.points if p.origin == origin]
                if pts:
                    ax.scatter([p.latency_ms for p in pts], [p.error for p in pts], s=size,
                               marker=marker, color=c, alpha=0.55 if origin == "sampled" else 0.9,
                               lw=0, label=f"{r.name} {origin}", zorder=2)
            xs += [p.latency_ms for p in v.points]
            front = v.pareto
            ax.step([p.value for p in front], [p.error for p in front], where="post", color=c,
                    ls=":", lw=1.5, zorder=3)
            ax.scatter([p.value for p in front], [p.error for p in front], s=40,
                       facecolors="none", edgecolors=c, lw=1.2, zorder=4,
                       label=f"{r.name} Pareto front ({len(front)})")
        _log_axis(ax, pd.Series(xs, dtype=float))
        ax.set(xlabel="measured latency (ms, median)", ylabel=summary.settings.error, title=title)
        ax.title.set_fontsize(9)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, loc="best")
    fig.suptitle("error vs measured latency (dotted: Pareto front)")
    return _png(fig)
