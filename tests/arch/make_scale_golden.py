"""Regenerate tests/arch/scale_pycls.json: pycls's own scaler on nasx's zoo (not run by pytest).

How the golden values were made: pycls (facebookresearch/pycls at commit 5719de6) was checked out
and its ``pycls/models/{scaler,regnet,anynet,blocks}.py`` run unchanged, with
``pycls.core.config.cfg`` replaced by a plain namespace holding pycls's defaults (yacs is not
needed for the scaler). For each zoo RegNet the REGNET keys (DEPTH, W0, WA, WM, GROUP_W; SE does
not affect scaling) and for each zoo EfficientNet the EN keys (DEPTHS, WIDTHS, EXP_RATIOS,
STEM_W, HEAD_W) were set, MODEL.SCALING_TYPE / SCALING_FACTOR and TRAIN.IM_SIZE set, and
``scale_model()`` called; the resulting ANYNET / EN depths, widths, group widths, stem and head
widths and TRAIN.IM_SIZE are what the JSON holds. This script does exactly that (the stub
config and bare packages are made here, so pycls's package __init__ files, yacs and iopath are
never needed; pycls's blocks.py imports torch). Usage, with a checkout of pycls:

    python tests/arch/make_scale_golden.py /path/to/pycls tests/arch/scale_pycls.json

The paper's dWr (alpha 0.8) is pycls's "d1_w8_g8_r1".
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

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


def _defaults() -> SimpleNamespace:
    """pycls's config defaults for what the scaler and the RegNet generator read."""
    n = SimpleNamespace
    return n(MODEL=n(TYPE="", SCALING_TYPE="", SCALING_FACTOR=1.0),
             REGNET=n(STEM_TYPE="simple_stem_in", STEM_W=32, BLOCK_TYPE="res_bottleneck_block",
                      STRIDE=2, SE_ON=False, SE_R=0.25, DEPTH=10, W0=32, WA=5.0, WM=2.5,
                      GROUP_W=16, BOT_MUL=1.0, HEAD_W=0),
             ANYNET=n(STEM_TYPE="simple_stem_in", STEM_W=32, BLOCK_TYPE="res_bottleneck_block",
                      DEPTHS=[], WIDTHS=[], STRIDES=[], BOT_MULS=[], GROUP_WS=[], HEAD_W=0,
                      SE_ON=False, SE_R=0.25),
             EN=n(STEM_W=32, DEPTHS=[], WIDTHS=[], EXP_RATIOS=[], SE_R=0.25, STRIDES=[],
                  KERNELS=[], HEAD_W=1280),
             TRAIN=n(IM_SIZE=224), TEST=n(IM_SIZE=256), BN=n(ZERO_INIT_FINAL_GAMMA=False))


def _pycls(root: str) -> tuple[ModuleType, ModuleType]:
    """(the stub config module, pycls's scaler module) from a pycls checkout."""
    for name, sub in (("pycls", ""), ("pycls.core", "core"), ("pycls.models", "models")):
        pkg = ModuleType(name)
        pkg.__path__ = [str(Path(root, "pycls", sub))]  # bare: its __init__ never runs
        sys.modules[name] = pkg
    config = ModuleType("pycls.core.config")
    config.cfg = _defaults()  # type: ignore[attr-defined]

    def reset() -> None:
        config.cfg.__dict__.clear()  # type: ignore[attr-defined]
        config.cfg.__dict__.update(_defaults().__dict__)  # type: ignore[attr-defined]

    config.reset = reset  # type: ignore[attr-defined]
    sys.modules["pycls.core.config"] = config
    return config, importlib.import_module("pycls.models.scaler")


def main(pycls_root: str, out: str) -> None:
    """Run pycls's scale_model() on every case and write the JSON."""
    config, scaler = _pycls(pycls_root)

    golden = {}
    for name in zoo.names():
        if zoo.ZOO[name].family not in ("regnet", "efficientnet"):
            continue
        kind, params = _case(name)
        sect = {"regnet": "REGNET", "effnet": "EN"}[kind]
        for strategy in STRATEGIES:
            for factor in FACTORS:
                config.reset()  # type: ignore[attr-defined]
                cfg = config.cfg  # type: ignore[attr-defined]
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
    main(sys.argv[1], sys.argv[2])
