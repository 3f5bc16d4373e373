"""Evaluation shapes: one padded batch shape vs the partial last batches, cuDNN autotuning on/off.

    python bench/bench_eval_shapes.py [--space spaces/regnet_cifar.yaml] [--models 4]
                                      [--val 5000] [--test 10000] [--device auto]
    python bench/bench_eval_shapes.py --quick      # 2 digits-sized models, 180 + 360 images

A trial evaluates its validation part every epoch and its test part at the end, in batches of up
to 1024. With ``cudnn.benchmark`` on, every new input shape of every new model is autotuned once.
For ``--models`` freshly sampled networks (new conv shapes each, as in a population) this times a
first and a second evaluation of ``--val`` + ``--test`` random images in three setups, each in a
fresh process (an empty autotuning cache):

- ``padded``: nasx's ``evaluate``: the last partial batch padded to the one evaluation shape
  (the larger part, at most 1024), benchmark on;
- ``partial``: the last batches at their own sizes (nasx before issue 24), benchmark on;
- ``partial-nobench``: the same with benchmark off.

The first evaluation includes the autotuning; the second is the steady state. On CPU there is no
autotuning, so the figures show the cost of the padding alone; the choice is to be confirmed on a
GPU (bench/gpu_first_run.sh runs this).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SETUPS = ("padded", "partial", "partial-nobench")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line of the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--space", default="spaces/regnet_cifar.yaml")
    p.add_argument("--models", type=int, default=4)
    p.add_argument("--val", type=int, default=5000, help="validation images")
    p.add_argument("--test", type=int, default=10000, help="test images")
    p.add_argument("--device", default="auto")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true",
                   help="2 digits-sized models (spaces/regnet_digits.yaml), 180 + 360 images: a "
                        "smoke run")
    p.add_argument("--setup", choices=SETUPS, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.space, args.models, args.val, args.test = "spaces/regnet_digits.yaml", 2, 180, 360
    return args


def one_setup(args: argparse.Namespace) -> dict[str, float | str]:
    """Time the first and the second evaluation of each model in this process's setup."""
    import numpy as np
    import torch

    from nasx.models import build_model
    from nasx.sample import sample_space
    from nasx.space import load_space
    from nasx.train.loop import EVAL_BATCH, eval_batch_size, evaluate
    from nasx.train.recipe import Recipe
    from nasx.train.trainer import pick_device

    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    torch.backends.cudnn.benchmark = args.setup != "partial-nobench"
    space = load_space(args.space)
    specs = [t.spec for t in sample_space(space, args.models, np.random.default_rng(0)).trials]
    padded = eval_batch_size(args.val, args.test)
    gen = torch.Generator().manual_seed(0)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    first = second = 0.0
    for spec in specs:
        model = build_model(spec, init=True, seed=0).to(device)
        if device.type == "cuda":
            model = model.to(memory_format=torch.channels_last)
        parts = [(torch.randn(n, spec.in_channels, spec.resolution, spec.resolution,
                              generator=gen).to(device),
                  torch.randint(0, spec.num_classes, (n,), generator=gen).to(device))
                 for n in (args.val, args.test)]
        for i in range(2):
            sync()
            t0 = time.perf_counter()
            for x, y in parts:
                if args.setup == "padded":
                    evaluate(model, x, y, Recipe(), device, padded)
                else:  # batches of EVAL_BATCH, the last one at its own size (nothing padded)
                    for j in range(0, x.shape[0], EVAL_BATCH):
                        xb, yb = x[j : j + EVAL_BATCH], y[j : j + EVAL_BATCH]
                        evaluate(model, xb, yb, Recipe(), device, xb.shape[0])
            sync()
            if i == 0:
                first += time.perf_counter() - t0
            else:
                second += time.perf_counter() - t0
    return {"setup": str(args.setup), "device": str(device), "first_s": first,
            "second_s": second}


def main(argv: list[str] | None = None) -> int:
    """Each setup in its own process; one line per setup."""
    args = parse_args(argv)
    if args.setup:
        print(json.dumps(one_setup(args)))
        return 0
    rows = []
    for setup in SETUPS:
        cmd = [sys.executable, __file__, "--space", args.space, "--models", str(args.models),
               "--val", str(args.val), "--test", str(args.test), "--device", args.device,
               "--threads", str(args.threads), "--setup", setup]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"{setup}: exit {done.returncode}: {done.stderr.strip()[-800:]}",
                  file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"{args.models} models of {args.space}; evaluation of {args.val} + {args.test} images "
          f"on {rows[0]['device']}")
    for r in rows:
        print(f"  {r['setup']:16s} first (autotuning) {r['first_s']:7.3f} s, "
              f"second {r['second_s']:7.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
