"""Regenerate tests/arch/scale_pycls.json: pycls's own scaler on nasx's zoo (not run by pytest).

How the golden values were made: pycls (facebookresearch/pycls at commit 5719de6) was checked out
and its ``pycls/models/{scaler,regnet,anynet,blocks}.py`` run unchanged, with
``pycls.core.config.cfg`` replaced by a plain namespace holding pycls's defaults (yacs is not
needed for the scaler). For each zoo RegNet the REGNET keys (DEPTH, W0, WA, WM, GROUP_W; SE does
not affect scaling) and for each zoo EfficientNet the EN keys (DEPTHS, WIDTHS, EXP_RATIOS,
STEM_W, HEAD_W) were set, MODEL.SCALING_TYPE / SCALING_FACTOR and TRAIN.IM_SIZE set, and
``scale_model()`` called; the resulting ANYNET / EN depths, widths, group widths, stem and head
widths and TRAIN.IM_SIZE are what the JSON holds. Usage:

    PYTHONPATH=/path/to/pycls-with-stub-config python tests/arch/make_scale_golden.py OUT.json

The paper's dWr (alpha 0.8) is pycls's "d1_w8_g8_r1".
"""

from __future__ import annotations

import json
import sys

from nasx.arch import zoo

STRATEGIES = ("d", "w", "r", "dw", "dr", "wr", "dwr", "g", "d1_w8_g8_r1", "d1_w2")
FACTORS = (0.5, 4.0, 16.0)


def _case(name: str) -> tuple[str, dict[str, object]]:
    entry, spec = zoo.ZOO[name], zoo.get(name)
    if entry.family == "regnet":
        v = entry.values
        return "regnet", {"DEPTH": v["depth"], "W0": v["w0"], "WA": v["wa"], "WM": v["wm"],
                          "GROUP_W": v["group_w"]}
    return "effnet", {"DEPTHS": spec.depths, "WIDTHS": spec.widths,
                      "EXP_RATIOS": [int(s.expansion) for s in spec.stages],
                      "STEM_W": spec.stem.width, "HEAD_W": spec.head.width}


def main(out: str) -> None:
    """Run pycls's scale_model() on every case and write the JSON."""
    from pycls.core import config  # the stub: cfg a namespace, reset() restores defaults
    from pycls.models import scaler

    golden = {}
    for name in zoo.names():
        if zoo.ZOO[name].family not in ("regnet", "efficientnet"):
            continue
        kind, params = _case(name)
        sect = {"regnet": "REGNET", "effnet": "EN"}[kind]
        for strategy in STRATEGIES:
            for factor in FACTORS:
                config.reset()
                cfg = config.cfg
                cfg.MODEL.TYPE, cfg.MODEL.SCALING_TYPE = kind, strategy
                cfg.MODEL.SCALING_FACTOR, cfg.TRAIN.IM_SIZE = factor, zoo.get(name).resolution
                for k, v in params.items():
                    setattr(getattr(cfg, sect), k, v)
                scaler.scale_model()
                if cfg.MODEL.TYPE == "anynet":
                    a = cfg.ANYNET
                    row = [a.DEPTHS, a.WIDTHS, a.GROUP_WS, cfg.TRAIN.IM_SIZE]
                else:
                    e = cfg.EN
                    row = [e.DEPTHS, e.WIDTHS, [e.STEM_W, e.HEAD_W], cfg.TRAIN.IM_SIZE]
                golden[f"{name}|{strategy}|{factor:g}"] = row
    with open(out, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
