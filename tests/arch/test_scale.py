"""Model scaling equals pycls's scaler (golden values: tests/arch/make_scale_golden.py says how)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from nasx.arch import complexity, zoo
from nasx.arch.io import load_spec
from nasx.arch.scale import (
    ScaleError,
    factor_for_flops,
    family_factors,
    parse_flops,
    parse_strategy,
    round_group,
    scale_spec,
)

GOLDEN = json.loads((Path(__file__).parent / "scale_pycls.json").read_text())
# Our names for pycls's scaling types ("d1_w8_g8_r1" is the paper's dWr at alpha 0.8).
OURS = {"d1_w8_g8_r1": "dWr"}


def _row(name: str, strategy: str, factor: float) -> list[object]:
    spec = scale_spec(zoo.get(name), factor, parse_strategy(OURS.get(strategy, strategy)))
    if spec.family == "efficientnet":
        third: list[int] = [spec.stem.width, spec.head.width]
    else:
        third = [st.bottleneck // st.groups for st in spec.stages]
    return [spec.depths, spec.widths, third, spec.resolution]


def test_regnetx_200mf_4x_dwr_by_hand() -> None:
    """pycls's algorithm stepped through by hand for RegNetX-200MF, 4x, dWr (d1_w8_g8_r1).

    E = 1 + 8 + 1 = 10: d = 4^0.1 = 1.1487, w = g = 4^0.4 = 1.7411, r = 4^0.05 = 1.0718.
    depths [1, 1, 4, 7] * d = [1.15, 1.15, 4.59, 8.04] -> [1, 1, 5, 8].
    widths [24, 56, 152, 368] * w / 8 = [5.22, 12.19, 33.08, 80.09] -> [40, 96, 264, 640].
    group width 8 * g = 13.93 -> 14 -> round(14 / 8) * 8 = 16.
    compatibility with g = 16: 40 / 16 = 2.5 -> 2 (half to even) -> 32; 264 / 16 = 16.5 -> 16
    -> 256; 96 and 640 are multiples already. resolution 224 * r / 4 = 60.02 -> 240.
    """
    assert _row("RegNetX-200MF", "d1_w8_g8_r1", 4.0) == [
        [1, 1, 5, 8], [32, 96, 256, 640], [16, 16, 16, 16], 240]
    assert GOLDEN["RegNetX-200MF|d1_w8_g8_r1|4"] == [
        [1, 1, 5, 8], [32, 96, 256, 640], [16, 16, 16, 16], 240]
    spec = scale_spec(zoo.get("RegNetX-200MF"), 4.0, parse_strategy("dWr"))
    assert complexity(spec).flops == 775931880  # 3.90x: within the rounding of d, w, r
    assert spec.family == "anynet"  # pycls turns a RegNet into the AnyNet of its stages


@pytest.mark.parametrize("name", [n for n in zoo.names()
                                  if zoo.ZOO[n].family in ("regnet", "efficientnet")])
def test_equals_pycls_on_the_zoo(name: str) -> None:
    """Every zoo RegNet and EfficientNet, 10 strategies x 3 factors, as pycls scales them."""
    keys = [k for k in GOLDEN if k.split("|")[0] == name]
    assert len(keys) == 30
    for key in keys:
        _, strategy, factor = key.split("|")
        assert _row(name, strategy, float(factor)) == GOLDEN[key], key


def test_strategy_weights_and_factors() -> None:
    """d * w^2 * r^2 = s for every strategy scaling d, w or r; dWr's weights are 1:8:8:1."""
    dwr = parse_strategy("dWr")
    assert (dwr.d, dwr.w, dwr.g, dwr.r) == (1.0, 8.0, 8.0, 1.0)
    assert dwr.factors(4.0) == parse_strategy("d1_w8_g8_r1").factors(4.0)
    half = parse_strategy("dWr", alpha=0.5)  # W gets 1/2, d and r 1/4 each
    assert (half.d, half.w, half.r) == (1.0, 2.0, 1.0)
    for name in ("d", "w", "r", "dw", "dr", "wr", "dwr", "dWr", "Dwr", "d1_w2"):
        d, w, _, r = parse_strategy(name).factors(7.0)
        assert math.isclose(d * w * w * r * r, 7.0, rel_tol=1e-12), name
    assert parse_strategy("dw").g == 0.0  # pycls: group width scales only when named
    assert [round_group(g, 1.0) for g in (1, 2, 3, 5, 6, 12, 20, 28)] == [1, 2, 4, 4, 8, 16,
                                                                          16, 32]


@pytest.mark.parametrize("bad", ["", "dq", "dd", "DWR", "dWg", "d1_x2", "d-1", "d1_d2", "d_"])
def test_bad_strategies(bad: str) -> None:
    """Unknown letters, repeats, all upper case, negative or malformed weights: ScaleError."""
    with pytest.raises(ScaleError):
        parse_strategy(bad)


def test_flops_argument_and_budget() -> None:
    """4x is a factor, 800M a budget; a budget is met within the rounding of the rules."""
    assert parse_flops("4x") == ("factor", 4.0)
    assert parse_flops("800M") == ("flops", 8e8)
    for bad in ("0x", "-2x", "4", "x", "1e400x", "abcM", "nanx"):
        with pytest.raises(ScaleError):
            parse_flops(bad)
    base = zoo.get("RegNetY-400MF")
    s = factor_for_flops(base, 1.6e9, parse_strategy("dWr"))
    got = complexity(scale_spec(base, s, parse_strategy("dWr"))).flops
    assert abs(math.log(got / 1.6e9)) < 0.1
    assert family_factors(8.0, 4) == [1.0, 2.0, 4.0, 8.0]
    with pytest.raises(ScaleError):
        scale_spec(base, 0.0, parse_strategy("dWr"))
    with pytest.raises(ScaleError, match="resnext"):
        scale_spec(zoo.get("ResNet-50"), 2.0, parse_strategy("dWr"))


def _nasx(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nasx", *args], capture_output=True,
                          text=True, check=False)


def test_cli_scale(tmp_path: Path) -> None:
    """`nasx scale` prints the table and the exact ratio, writes a spec describe/load_spec read."""
    out = tmp_path / "x.yaml"
    res = _nasx("scale", "RegNetX-200MF", "--flops", "4x", "--strategy", "dWr", "--out",
                str(out))
    assert res.returncode == 0, res.stderr
    assert "flops ratio 3.898355 for factor 4" in res.stdout
    spec = load_spec(out)
    assert spec.widths == [32, 96, 256, 640] and spec.resolution == 240
    fam = _nasx("scale", str(out), "--flops", "2x", "--family", "3", "--out",
                str(tmp_path / "f.yaml"))
    assert fam.returncode == 0, fam.stderr
    assert load_spec(tmp_path / "f-1.yaml").widths == spec.widths  # factor 1 is the base
    assert (tmp_path / "f-3.yaml").exists()
    for args in (["RegNetX-200MF", "--flops", "4x", "--strategy", "dz"],
                 ["RegNetX-200MF", "--flops", "0x"],
                 ["MobileNetV2", "--flops", "2x"]):
        bad = _nasx("scale", *args)
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_cli_scale_a_trial_of_a_run(tmp_path: Path) -> None:
    """MODEL may be RUN --trial N: that trial's spec is scaled; --trial needs a run."""
    run = tmp_path / "run"
    res = _nasx("sample", "regnet_digits", "--n", "2", "--out", str(run))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "t.yaml"
    res = _nasx("scale", str(run), "--trial", "1", "--flops", "2x", "--strategy", "w",
                "--out", str(out))
    assert res.returncode == 0, res.stderr
    from nasx.store import RunStore

    with RunStore.open(run, readonly=True) as store:
        base = store.get(1).spec
    assert load_spec(out).widths == scale_spec(base, 2.0, parse_strategy("w")).widths
    for args in ([str(run), "--flops", "2x"], ["RegNetX-200MF", "--trial", "1", "--flops", "2x"]):
        bad = _nasx("scale", *args)
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_scaled_versions_of_a_best_model() -> None:
    """The report's best-models column: 2x and 4x dWr complexity, None for a family with no
    scaling rule."""
    from nasx.arch.scale import scaled_versions

    got = scaled_versions(zoo.get("RegNetX-200MF"))
    assert got is not None and [s.factor for s in got] == [2.0, 4.0]
    assert got[1].flops == 775931880 and got[1].resolution == 240
    assert scaled_versions(zoo.get("MobileNetV2")) is None
