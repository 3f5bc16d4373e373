"""Training throughput: sampled networks of a space trained on synthetic CIFAR-shaped data.

    python bench/bench_train.py spaces/regnet.yaml [--models 8] [--epochs 1] [--resolution 32]
    python bench/bench_train.py spaces/regnet.yaml --quick      # small and slow enough for a CPU

Samples ``--models`` architectures from the space file (its own sampler and constraints), trains
each with ``train_trial`` on one device on 50000 + 10000 random 3x32x32 images (random labels;
only the speed matters), and prints per-model seconds, images per second, and models per
device-hour (3600 / mean seconds per trained model, evaluation included). The networks are built
at ``--resolution`` (default 32, CIFAR); their ImageNet-sized widths are kept. One untimed warm-up
trial first pays the one-time costs (lazy imports, cuDNN autotuning, data generation).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command line of the benchmark."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("space", help="space file to sample networks from (e.g. spaces/regnet.yaml)")
    p.add_argument("--models", type=int, default=8, help="networks to train")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--resolution", type=int, default=32, help="0 = the space's own resolution")
    p.add_argument("--train-images", type=int, default=50000)
    p.add_argument("--test-images", type=int, default=10000)
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument("--threads", type=int, default=0, help="CPU threads (0 = auto)")
    p.add_argument("--compile", action="store_true", help="torch.compile each model (CUDA)")
    p.add_argument("--no-amp", action="store_true", help="no bf16 autocast on CUDA")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument(
        "--quick",
        action="store_true",
        help="2 models, 1 epoch, 512 + 256 images, batch 64: a CPU smoke run",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    if args.quick:
        args.models, args.epochs, args.batch_size = min(args.models, 2), 1, 64
        args.train_images, args.test_images = 512, 256
    return args


def sample_specs(space_path: str, n: int, seed: int, resolution: int) -> list[dict]:
    """``n`` sampled ArchSpec dicts of the space, rebuilt at ``resolution`` (0 = unchanged)."""
    import numpy as np

    from nasx.arch.spec import ArchSpec
    from nasx.sample import sample_space
    from nasx.space import load_space

    space = load_space(space_path)
    trials = sample_space(space, n, np.random.default_rng(seed)).trials
    specs = []
    for t in trials:
        spec = ArchSpec.from_dict(t.spec)
        if resolution:
            spec = dataclasses.replace(spec, resolution=resolution)
        specs.append({"spec": spec.to_dict(), "flops": t.flops, "params": t.params, "seed": t.seed})
    return specs


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = parse_args(argv)
    from nasx.data import DataCache
    from nasx.train.job import TrialJob
    from nasx.train.recipe import Recipe
    from nasx.train.trainer import train_trial

    t0 = time.perf_counter()
    specs = sample_specs(args.space, args.models, args.seed, args.resolution)
    print(f"sampled {len(specs)} networks from {args.space} in {time.perf_counter() - t0:.2f} s")
    classes = specs[0]["spec"]["head"]["num_classes"]
    recipe = Recipe(
        data="synthetic",
        synthetic_train=args.train_images,
        synthetic_test=args.test_images,
        synthetic_classes=classes,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        eval_every=args.epochs,
        device=args.device,
        threads=args.threads,
        compile=args.compile,
        amp=not args.no_amp,
    )
    cache = DataCache()
    # Warm-up (untimed): generates the data once and pays lazy imports / autotuning.
    warm = train_trial(
        TrialJob(
            0,
            specs[0]["spec"],
            dataclasses.replace(recipe, epochs=1, eval_every=1).to_dict(),
            seed=0,
        ),
        cache,
    )
    if warm.status != "done":
        print(f"warm-up trial {warm.status}: {warm.message}", file=sys.stderr)
        return 1
    print(
        f"device {warm.device}; data {args.train_images}+{args.test_images} x 3x"
        f"{recipe_res(specs)}; {args.epochs} epoch(s), batch {args.batch_size}"
    )
    rows = []
    print(f"{'#':>3} {'MF@224':>8} {'Mparams':>8} {'status':>8} {'s':>8} {'img/s':>9} {'err':>6}")
    for i, s in enumerate(specs, start=1):
        res = train_trial(TrialJob(i, s["spec"], recipe.to_dict(), seed=s["seed"]), cache)
        ips = float(res.metrics.get("images_per_second", 0.0))
        rows.append(
            {
                "id": i,
                "flops": s["flops"],
                "params": s["params"],
                "status": res.status,
                "seconds": res.seconds,
                "train_seconds": res.metrics.get("train_seconds", 0.0),
                "images_per_second": ips,
                "message": res.message,
            }
        )
        err = f"{res.error:6.1f}" if res.error is not None else "     -"
        print(
            f"{i:>3} {s['flops'] / 1e6:8.1f} {s['params'] / 1e6:8.2f} {res.status:>8} "
            f"{res.seconds:8.2f} {ips:9.0f} {err}"
        )
    done = [r for r in rows if r["status"] == "done"]
    if not done:
        print("no model trained", file=sys.stderr)
        return 1
    mean_s = statistics.fmean(r["seconds"] for r in done)
    images = args.train_images * args.epochs * len(done)
    ips = images / sum(r["train_seconds"] for r in done)
    summary = {
        "device": warm.device,
        "models": len(done),
        "epochs": args.epochs,
        "train_images": args.train_images,
        "batch_size": args.batch_size,
        "seconds_per_model": mean_s,
        "models_per_device_hour": 3600.0 / mean_s,
        "images_per_second": ips,
        "rows": rows,
    }
    kind = "GPU" if warm.device.startswith("cuda") else "CPU"
    print(
        f"mean {mean_s:.2f} s per model ({args.epochs} epoch(s) of {args.train_images} images + "
        f"test): {3600.0 / mean_s:.1f} models per {kind}-hour on {warm.device}; "
        f"{ips:.0f} training images/s"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


def recipe_res(specs: list[dict]) -> str:
    """'RxR' of the first sampled network."""
    r = specs[0]["spec"]["resolution"]
    return f"{r}x{r}"


if __name__ == "__main__":
    sys.exit(main())
