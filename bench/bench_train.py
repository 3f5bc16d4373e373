"""Training throughput: sampled networks of a space trained on synthetic CIFAR-shaped data.

    python bench/bench_train.py spaces/regnet.yaml [--models 8] [--epochs 1] [--resolution 32]
    python bench/bench_train.py spaces/regnet.yaml --quick      # small and slow enough for a CPU
    python bench/bench_train.py spaces/regnet_cifar.yaml --packing 1,2,4,8 --models 32  # a GPU

Samples ``--models`` architectures from the space file (its own sampler and constraints), trains
each with ``train_trial`` on one device on 50000 + 10000 random 3x32x32 images (random labels;
only the speed matters), and prints per-model seconds, images per second, and models per
device-hour (3600 / mean seconds per trained model, evaluation included). The networks are built
at ``--resolution`` (default 32, CIFAR); their ImageNet-sized widths are kept. One untimed warm-up
trial first pays the one-time costs (lazy imports, cuDNN autotuning, data generation).

Lines show each trial's ``peak_memory_mb`` (CUDA), the summary TFLOPS and % of the bf16 peak.

``--packing 1,2,4,8`` measures GPU packing instead (issue 14): it samples ``--models`` networks
once into a run of its own (built at ``--resolution``, its recipe on synthetic data of
``--train-images`` + ``--test-images``), then for each k trains a copy of that run with
``nasx train RUN --executor ray
--gpus-per-trial 1/k --device cuda --data synthetic`` on one GPU (``--gpu``, via
CUDA_VISIBLE_DEVICES), and prints per k: trials done/failed, the training span (first start to
last end, from the store), models per GPU-hour, aggregate training images/s, and the share of the
GPU's dense bf16 peak reached (6 x multiply-adds per trained image; a known device or
``--peak-tflops``). It needs CUDA and says so in one line otherwise; ``--cpu-check`` runs the same
steps on CPU (``--gpus-per-trial 0``; figures meaningless) to check the script itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Run as a script from a checkout: nasx from this checkout, here and in the nasx commands started.
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nasx.arch.spec import ArchSpec  # noqa: E402 - torch-free; after the path above
from nasx.train.recipe import Recipe  # noqa: E402

# Dense (no sparsity) bf16 tensor-core peaks in TFLOPS, from NVIDIA's data sheets, matched in
# order against torch.cuda.get_device_name (the more specific names first).
BF16_PEAK_TFLOPS = (("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("H100", 989.0),  # H100: SXM
                    ("H200", 989.0), ("GH200", 989.0), ("A100", 312.0), ("L40S", 362.0),
                    ("L4", 121.0))


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
    p.add_argument("--no-amp", action="store_true", help="no autocast on CUDA")
    p.add_argument("--deterministic", action="store_true",
                   help="the recipe's deterministic flag (deterministic kernels, no autotuning)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed")
    p.add_argument(
        "--quick",
        action="store_true",
        help="2 models, 1 epoch, 512 + 256 images, batch 64: a CPU smoke run",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    g = p.add_argument_group("GPU packing (issue 14)")
    g.add_argument("--packing", default=None, metavar="K,K,...",
                   help="trials per GPU to measure, e.g. 1,2,4,8 (trains through nasx train "
                   "--executor ray --gpus-per-trial 1/k)")
    g.add_argument("--data", default="synthetic", help="data set of the packing runs")
    g.add_argument("--cpus-per-trial", type=float, default=1.0)
    g.add_argument("--gpu", type=int, default=0, help="the one GPU used (CUDA_VISIBLE_DEVICES)")
    g.add_argument("--out", type=Path, default=Path("runs/bench_packing"),
                   help="folder of the packing runs (replaced)")
    g.add_argument("--peak-tflops", type=float, default=0.0,
                   help="dense bf16 peak of the GPU (default: known devices only)")
    g.add_argument("--cpu-check", action="store_true",
                   help="run the packing steps on CPU to check the script (figures meaningless)")
    args = p.parse_args(argv)
    if args.quick:
        args.models, args.epochs, args.batch_size = min(args.models, 2), 1, 64
        args.train_images, args.test_images = 512, 256
    return args


@dataclasses.dataclass(frozen=True)
class Sampled:
    """One sampled network of the benchmark: its ArchSpec (at the benchmark's resolution), its
    complexity at the space's own resolution, and its trial seed."""

    spec: ArchSpec
    flops: int
    params: int
    seed: int


def sample_specs(space_path: str, n: int, seed: int, resolution: int) -> list[Sampled]:
    """``n`` sampled networks of the space, rebuilt at ``resolution`` (0 = unchanged)."""
    import numpy as np

    from nasx.sample import sample_space
    from nasx.space import load_space

    space = load_space(space_path)
    trials = sample_space(space, n, np.random.default_rng(seed)).trials
    out = []
    for t in trials:
        spec = t.spec  # typed: the sampler hands out ArchSpec objects
        if resolution:
            spec = dataclasses.replace(spec, resolution=resolution)
        out.append(Sampled(spec=spec, flops=t.flops, params=t.params, seed=t.seed))
    return out


def bench_recipe(args: argparse.Namespace, classes: int) -> Recipe:
    """The recipe every benchmark trial trains with: synthetic data, the command line's sizes."""
    return Recipe(data="synthetic", synthetic_train=args.train_images,
                  synthetic_test=args.test_images, synthetic_classes=classes,
                  epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                  eval_every=args.epochs, device=args.device, threads=args.threads,
                  compile=args.compile, amp=not args.no_amp, deterministic=args.deterministic)


def train_rows(specs: list[Sampled], recipe: Recipe, cache: object) -> list[dict]:
    """Train each sampled network once (timed), printing one line per model."""
    from nasx.arch.complexity import complexity
    from nasx.train.job import TrialJob
    from nasx.train.trainer import train_trial

    rows = []
    print(f"{'#':>3} {'MF@224':>8} {'Mparams':>8} {'status':>8} {'s':>8} {'img/s':>9} "
          f"{'err':>6} {'peak MiB':>8}")
    for i, s in enumerate(specs, start=1):
        res = train_trial(TrialJob(i, s.spec, recipe, seed=s.seed), cache)  # type: ignore[arg-type]
        ips = float(res.metrics.get("images_per_second", 0.0))
        peak = res.metrics.get("peak_memory_mb")
        rows.append({"id": i, "flops": s.flops, "trained_flops": complexity(s.spec).flops,
                     "params": s.params, "status": res.status,
                     "seconds": res.seconds,
                     "train_seconds": float(res.metrics.get("train_seconds", 0.0)),
                     "images_per_second": ips, "peak_memory_mb": peak,
                     "message": res.message})
        err = f"{res.error:6.1f}" if res.error is not None else "     -"
        shown = _mib(float(peak) if isinstance(peak, (int, float)) else None)
        print(f"{i:>3} {s.flops / 1e6:8.1f} {s.params / 1e6:8.2f} {res.status:>8} "
              f"{res.seconds:8.2f} {ips:9.0f} {err} {shown}")
        if res.status != "done" and res.message:
            print(f"      {res.message}")
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    args = parse_args(argv)
    if args.packing:
        return packing_main(args)
    from nasx.data import DataCache
    from nasx.train.job import TrialJob
    from nasx.train.trainer import train_trial

    t0 = time.perf_counter()
    specs = sample_specs(args.space, args.models, args.seed, args.resolution)
    print(f"sampled {len(specs)} networks from {args.space} in {time.perf_counter() - t0:.2f} s")
    recipe = bench_recipe(args, specs[0].spec.num_classes)
    cache = DataCache()
    # Warm-up (untimed): generates the data once and pays lazy imports / autotuning.
    warm = train_trial(TrialJob(0, specs[0].spec, dataclasses.replace(recipe, epochs=1,
                                                                      eval_every=1), seed=0),
                       cache)
    if warm.status != "done":
        print(f"warm-up trial {warm.status}: {warm.message}", file=sys.stderr)
        return 1
    res = specs[0].spec.resolution
    print(f"device {warm.device}; data {args.train_images}+{args.test_images} x 3x{res}x{res}; "
          f"{args.epochs} epoch(s), batch {args.batch_size}")
    rows = train_rows(specs, recipe, cache)
    done = [r for r in rows if r["status"] == "done"]
    if not done:
        print("no model trained", file=sys.stderr)
        return 1
    summary = throughput_summary(args, warm.device, rows)
    kind = "GPU" if warm.device.startswith("cuda") else "CPU"
    print(f"mean {summary['seconds_per_model']:.2f} s per model ({args.epochs} epoch(s) of "
          f"{args.train_images} images + test): {summary['models_per_device_hour']:.1f} models "
          f"per {kind}-hour on {warm.device}; {summary['images_per_second']:.0f} training "
          f"images/s; peak memory of a trial {_peak_text(summary['peak_memory_mb'])}; "
          f"{summary['tflops']:.2f} TFLOPS{_percent(summary['bf16_peak_percent'])}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


def _percent(value: float | None) -> str:
    return f" = {value:.1f}% of the bf16 peak" if value is not None else ""


def _mib(value: float | None) -> str:
    return f"{value:8.0f}" if value is not None else "       -"


def _peak_text(peak: float | None) -> str:
    return f"{peak:.0f} MiB" if peak is not None else "not measured (CUDA only)"


def throughput_summary(args: argparse.Namespace, device: str, rows: list[dict]) -> dict:
    """The figures of the throughput mode: per model, per device-hour, per second, peak memory."""
    done = [r for r in rows if r["status"] == "done"]
    mean_s = statistics.fmean(r["seconds"] for r in done)
    images = args.train_images * args.epochs * len(done)
    train_s = sum(r["train_seconds"] for r in done)
    peaks = [float(r["peak_memory_mb"]) for r in done if r["peak_memory_mb"] is not None]
    # 6 x multiply-adds per trained image (forward 2, backward 4), over the training seconds
    flop = sum(6.0 * r["trained_flops"] * args.train_images * args.epochs for r in done)
    peak = args.peak_tflops * 1e12 or bf16_peak(device)
    return {
        "device": device, "models": len(done), "epochs": args.epochs,
        "train_images": args.train_images, "batch_size": args.batch_size,
        "deterministic": args.deterministic, "compile": args.compile,
        "seconds_per_model": mean_s, "models_per_device_hour": 3600.0 / mean_s,
        "images_per_second": images / train_s if train_s > 0 else 0.0,
        "peak_memory_mb": max(peaks) if peaks else None,
        "tflops": flop / train_s / 1e12 if train_s > 0 else 0.0,
        "bf16_peak_percent": 100.0 * flop / train_s / peak if train_s > 0 and peak else None,
        "rows": rows,
    }


def per_gpu_list(text: str) -> list[int]:
    """'1,2,4,8' -> [1, 2, 4, 8]; SystemExit with one line for anything else."""
    try:
        ks = [int(k) for k in text.split(",") if k.strip()]
    except ValueError:
        ks = []
    if not ks or any(k < 1 or k > 64 for k in ks):
        raise SystemExit(f"bench_train.py: --packing wants trials per GPU like 1,2,4,8; got {text!r}")
    return ks


def bf16_peak(device_name: str) -> float:
    """Dense bf16 peak (FLOP/s) of a device by its name; 0 when not known."""
    for key, tflops in BF16_PEAK_TFLOPS:
        if key in device_name:
            return tflops * 1e12
    return 0.0


def cuda_device_name(index: int) -> str | None:
    """The name of CUDA device ``index`` (None: no CUDA here), torch's own check."""
    import torch

    if not torch.cuda.is_available() or index >= torch.cuda.device_count():
        return None
    return torch.cuda.get_device_name(index)


def nasx(*argv: str, env: dict[str, str] | None = None) -> float:
    """Run ``python -m nasx ARGV`` (output passed through); its wall seconds. Exits on failure."""
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "nasx", *argv], env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"bench_train.py: nasx {' '.join(argv)} exited {done.returncode}")
    return time.perf_counter() - t0


def packing_figures(run: Path, peak: float) -> dict:
    """Figures of one trained packing run, read from its store."""
    from nasx.store import RunStore

    with RunStore.open(run, readonly=True) as store:
        trials = store.trials()
    done = [t for t in trials if t.status == "done"]
    ran = [t for t in trials if t.started_at is not None and t.finished_at is not None]
    span = (max(t.finished_at for t in ran) - min(t.started_at for t in ran)) if ran else 0.0
    images = flop = 0.0
    per_trial_ips = []
    peaks = [float(v) for t in done
             if isinstance(v := (t.metrics or {}).get("peak_memory_mb"), (int, float))]
    for t in done:
        m = t.metrics or {}
        ips, secs = float(m.get("images_per_second", 0.0)), float(m.get("train_seconds", 0.0))
        images += ips * secs
        flop += 6.0 * t.flops * ips * secs  # forward 2 x MACs, backward twice the forward
        per_trial_ips.append(ips)
    out = {
        "trials": len(trials),
        "done": len(done),
        "failed": sum(t.status == "failed" for t in trials),
        "messages": sorted({t.message for t in trials if t.status != "done" and t.message})[:3],
        "span_seconds": span,
        "models_per_gpu_hour": 3600.0 * len(done) / span if span > 0 else 0.0,
        "images_per_second": images / span if span > 0 else 0.0,
        "trial_images_per_second": statistics.fmean(per_trial_ips) if per_trial_ips else 0.0,
        "tflops": flop / span / 1e12 if span > 0 else 0.0,
        "peak_memory_mb": max(peaks) if peaks else None,  # the largest trial's (CUDA only)
    }
    out["bf16_peak_percent"] = 100.0 * flop / span / peak if span > 0 and peak > 0 else None
    return out


def make_packing_run(args: argparse.Namespace, root: Path) -> None:
    """A run of ``--models`` networks sampled as the throughput mode samples them (built at
    ``--resolution``), whose recipe trains on synthetic data of ``--train-images`` +
    ``--test-images`` (the space's ``train:`` block is replaced)."""
    import yaml

    from nasx.arch.complexity import complexity
    from nasx.space.shipped import resolve_space
    from nasx.store import NewTrial, RunStore

    specs = sample_specs(args.space, args.models, args.seed, args.resolution)
    doc = yaml.safe_load(resolve_space(args.space).read_text(encoding="utf-8"))
    doc["train"] = {"data": "synthetic", "synthetic_train": args.train_images,
                    "synthetic_test": args.test_images,
                    "synthetic_classes": specs[0].spec.num_classes,
                    "deterministic": args.deterministic, "amp": not args.no_amp}
    store = RunStore.create(root, yaml.safe_dump(doc, sort_keys=False),
                            {"name": f"bench_{doc.get('name', 'space')}",
                             "family": str(doc.get("family", ""))})
    # flops/params/acts of the trained (resized) networks: what the %-of-peak figure counts
    store.add_trials(NewTrial(fingerprint=f"bench{i}", values={"i": i}, spec=s.spec,
                              flops=(c := complexity(s.spec)).flops, params=c.params,
                              acts=c.acts, seed=s.seed) for i, s in enumerate(specs))
    store.close()
    print(f"sampled {len(specs)} networks of {args.space} into {root} at "
          f"{specs[0].spec.resolution} px")


def packing_main(args: argparse.Namespace) -> int:
    """The ``--packing`` mode: the same sampled run trained at k trials per GPU, for each k."""
    ks = per_gpu_list(args.packing)
    name = "cpu" if args.cpu_check else cuda_device_name(args.gpu)
    if name is None:
        print(f"bench_train.py --packing needs a CUDA GPU and {socket.gethostname()} has none "
              f"usable (torch.cuda.is_available() is False or --gpu {args.gpu} is absent); "
              "no figures recorded", file=sys.stderr)
        return 2
    peak = args.peak_tflops * 1e12 or bf16_peak(name)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    if not args.cpu_check:
        env["CUDA_VISIBLE_DEVICES"] = str(args.gpu)  # the local Ray then sees this one GPU
    shutil.rmtree(args.out, ignore_errors=True)
    base = args.out / "sampled"
    make_packing_run(args, base)
    rows = []
    for k in ks:
        run = args.out / f"k{k}"
        shutil.copytree(base, run)
        share = "0" if args.cpu_check else f"{1 / k:.6g}"
        wall = nasx("train", str(run), "--executor", "ray", "--gpus-per-trial", share,
                    "--device", "cpu" if args.cpu_check else "cuda", "--data", args.data,
                    "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
                    "--cpus-per-trial", f"{args.cpus_per_trial:g}", "--keep-weights", "0",
                    "--no-progress", env=env)
        rows.append({"per_gpu": k, "gpus_per_trial": float(share), "wall_seconds": wall,
                     **packing_figures(run, peak)})
    print(f"\n{name}; {args.models} models of {args.space}, {args.epochs} epoch(s), batch "
          f"{args.batch_size}, data {args.data}; bf16 peak "
          f"{f'{peak / 1e12:.0f} TFLOPS' if peak else 'unknown (--peak-tflops)'}")
    print(f"{'k/GPU':>5} {'done':>5} {'failed':>6} {'span s':>8} {'wall s':>8} {'models/GPU-h':>12} "
          f"{'img/s':>9} {'img/s/trial':>11} {'TFLOPS':>7} {'%peak':>6} {'peak MiB':>8}")
    for r in rows:
        pct = f"{r['bf16_peak_percent']:6.1f}" if r["bf16_peak_percent"] is not None else "     -"
        print(f"{r['per_gpu']:>5} {r['done']:>5} {r['failed']:>6} {r['span_seconds']:8.1f} "
              f"{r['wall_seconds']:8.1f} {r['models_per_gpu_hour']:12.1f} "
              f"{r['images_per_second']:9.0f} {r['trial_images_per_second']:11.0f} "
              f"{r['tflops']:7.2f} {pct} {_mib(r['peak_memory_mb'])}")
        for msg in r["messages"]:
            print(f"      not done: {msg}")
    if args.cpu_check:
        print("(--cpu-check: trained on CPU with --gpus-per-trial 0; these are not GPU figures)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"device": name, "peak_flops": peak, "rows": rows},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
