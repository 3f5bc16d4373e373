"""RegNet fit (DDS 3.3): exact on the zoo, recovers known parameters, writes a RegNet space."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nasx.analysis.regnet_fit import block_widths, fit_spec, fit_widths
from nasx.arch import zoo
from nasx.arch.families import decode
from nasx.arch.families.regnet import quantized_stages
from nasx.errors import InvalidSample
from nasx.space import load_space
from nasx.store.run_store import NewTrial, RunStore
from nasx.train import population
from nasx.train.recipe import Recipe

REGNETS = [n for n in zoo.names() if zoo.ZOO[n].family == "regnet"]


@pytest.mark.parametrize("name", REGNETS)
def test_zoo_regnets_fit_back_exactly(name: str) -> None:
    """Every zoo RegNet's per-block widths: e_fit < 1e-6 and the fit's parameters give them."""
    spec = zoo.get(name)
    fit = fit_spec(spec)
    assert fit.e_fit < 1e-6
    assert list(fit.widths) == block_widths(spec)
    values = dict(zoo.ZOO[name].values, depth=fit.d, w0=fit.w0, wa=fit.wa, wm=fit.wm)
    assert decode("regnet", values).stages == spec.stages  # the fitted RegNet is the model


def test_e_fit_is_the_mean_absolute_log_ratio() -> None:
    """A profile no quantised line gives has e_fit > 0, and e_fit is its stated norm."""
    widths = [64, 16, 64, 16, 64, 16]
    fit = fit_widths(widths)
    assert fit.e_fit > 0.1
    expected = np.mean(np.abs(np.log(np.array(fit.widths) / np.array(widths))))
    assert fit.e_fit == pytest.approx(expected, abs=1e-12)


def _known(rng: np.random.Generator) -> dict[str, float | int]:
    """A valid RegNet sample (depth, w0, wa, wm, group_w) drawn at random."""
    while True:
        v = {"depth": int(rng.integers(3, 16)), "w0": int(rng.integers(1, 9)) * 8,
             "wa": float(rng.uniform(4, 40)), "wm": float(rng.uniform(1.5, 3.0)),
             "group_w": int(rng.choice([1, 2, 4, 8, 16]))}
        try:
            quantized_stages(v["depth"], v["w0"], v["wa"], v["wm"])
        except InvalidSample:
            continue
        return v


def _run_of_known(root: Path, n: int = 12) -> tuple[Path, list[dict[str, float | int]]]:
    """A run of RegNets decoded from known parameters, with made-up validation errors."""
    rng = np.random.default_rng(3)
    known = [_known(rng) for _ in range(n)]
    space = ("name: known\nfamily: regnet\nn: 12\nseed: 0\ninput: {resolution: 16, "
             "in_channels: 1, num_classes: 10}\nparams:\n  depth: {int: [3, 16]}\n  w0: {int: "
             "[8, 64], q: 8}\n  wa: {float: [4, 40]}\n  wm: {float: [1.5, 3.0]}\n  group_w: "
             "{pow2: [1, 16]}\ntrain:\n  epochs: 1\n")
    meta = {"name": "known", "family": "regnet", "space_file": "known.yaml",
            "space_sha256": "0" * 64, "seed": 0,
            population.META_KEY: Recipe(epochs=1).to_dict()}
    store = RunStore.create(root, space, meta)
    trials = []
    for i, v in enumerate(known):
        spec = decode("regnet", {**v, "resolution": 16, "in_channels": 1, "num_classes": 10})
        trials.append(NewTrial(fingerprint=f"k{i}", values=dict(v), spec=spec, flops=1000 + i,
                               params=100, acts=10, seed=i))
    for tid in store.add_trials(trials):
        store.mark_running(tid, Recipe(epochs=1), device="cpu")
        store.finish(tid, "done", error=10.0 + tid, metrics={"val_error": 10.0 + tid})
    store.close()
    return root, known


def test_fit_run_recovers_known_parameters(tmp_path: Path) -> None:
    """`nasx fit` on RegNets made from known (w0, wa, wm, d): widths equal, d equal, e_fit 0."""
    from nasx.refine.fit import fit_run

    run, known = _run_of_known(tmp_path / "run")
    res = fit_run(run, top=4, out=tmp_path / "fitted.yaml")
    for tid, fit in zip(res.ids, res.fits, strict=True):
        v = known[tid - 1]
        widths, depths = quantized_stages(v["depth"], v["w0"], v["wa"], v["wm"])
        spec = decode("regnet", {**v, "resolution": 16, "in_channels": 1, "num_classes": 10})
        assert fit.d == v["depth"] == sum(depths)
        assert fit.e_fit < 1e-6 and list(fit.widths) == block_widths(spec)
    space = load_space(tmp_path / "fitted.yaml")
    assert space.family == "regnet" and space.lineage["top"] == 4
    lo, hi = res.ranges()["d"]
    assert lo == min(known[t - 1]["depth"] for t in res.ids[:4])
    assert hi == max(known[t - 1]["depth"] for t in res.ids[:4])


def test_cli_fit(tmp_path: Path) -> None:
    """The verb prints e_fit and the ranges; a missing run is one line, exit 2."""
    run, _ = _run_of_known(tmp_path / "run")
    out = subprocess.run([sys.executable, "-m", "nasx", "fit", str(run), "--top", "3"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "e_fit median: top 3" in out.stdout and "range over the top 3: wm" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "nasx", "fit", str(tmp_path / "none")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
