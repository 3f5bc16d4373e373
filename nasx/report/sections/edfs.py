"""The error-EDF section: raw EDFs with bands, and the normalised EDFs of every pair a
normalised comparison carries (the EDFs and verdicts are in the shared Summary)."""

from __future__ import annotations

import nasx.report.figures as figures
from nasx.analysis.results import Summary
from nasx.report.html import figure, fmt
from nasx.report.sections.base import Section, core


def render(s: Summary) -> str:
    """Raw EDFs with bands, and the normalised EDFs of every pair a normalised comparison
    carries (the very weights and numbers of its verdict)."""
    st = s.settings
    first = s.runs[0]
    bands = ("" if len(s.runs) <= figures.BANDS_UP_TO else
             f" (drawn with up to {figures.BANDS_UP_TO} runs; in summary.json for all)")
    out = [figure(figures.edf_figure(s), "error EDF"),
           f'<p class="note">F(e) = fraction of models with error &lt; e (the '
           f'{fmt(st.error)}) over the finished sampled models trained with the run\'s recipe'
           f" (refine trials dashed, trials of another recipe dotted: both apart). Bands:"
           f" {fmt(first.edf.band_method)}, alpha = {st.alpha}{bands}.</p>"]
    panels = figures.normalized_panels(s)
    if panels:
        out.append(figure(figures.normalized_figure(s), "normalised error EDFs"))
        more = len(panels) - figures.MAX_NORMALIZED_PANELS
        out.append('<p class="note">For each pair whose conclusion a normalised comparison'
                   " carries: both EDFs re-weighted onto one complexity distribution over the"
                   f" {st.bins} log bins (range of both runs) that both populate, bin h weighing"
                   " n_a n_b / (n_a + n_b) (normalised), shared by the two sides; D and the"
                   " permutation p in each title are those of the verdict and the tables."
                   + (f" {more} more panels are in summary.json only." if more > 0 else "")
                   + "</p>")
    return "".join(out)


SECTION = Section("Error EDFs", core, render)
