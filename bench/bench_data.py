"""The data path: preparing a JPEG folder, gathering from the store, training streamed, memory.

    python bench/bench_data.py [--quick] [--only prepare,gather,train,pycls,memory,idx]

Sections (each prints its figures and the sizes it used; --quick shrinks everything to seconds):
- prepare: an ImageNet-shaped JPEG folder (bench/make_jpeg_folder.py; or --folder) converted to
  raw stores at 72, 64 and 224 px and a jpeg store at 256 px on every core (wall images/s), and
  again in one process (images per CPU-second).
- gather: random batches of 256 read from a 64 px store (uint8 rows, and rows made into
  normalised float inputs): images/s on one core.
- train: one epoch of the same small CNN on the same 64 px synthetic data, streamed from the
  store vs the whole data set as one in-memory tensor: images/s and their ratio.
- pycls: the way pycls loads (Pillow decode + resize per image in a torch DataLoader with one
  worker process per core) vs nasx's gather from the store, same 64 px and crop/flip:
  images/s per core.
- memory: a training process's peak private memory (Private_Clean + Private_Dirty of
  /proc/PID/smaps_rollup) for synthetic data of N and 4N images at 32 px, beside a bare torch
  process training the same model on random tensors.
- idx: decoding Fashion-MNIST's IDX files (when installed), cold and cached.
Everything is written into a temporary folder ($NASX_CACHE too), removed at the end.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
SECTIONS = ("prepare", "gather", "train", "pycls", "memory", "idx")


def _cores() -> int:
    from nasx.data.sources import cpu_count

    return cpu_count()


def bench_prepare(tmp: Path, quick: bool, folder: str | None) -> Path:
    """Prepare a JPEG folder at 72 px; returns the folder (reused by the pycls section)."""
    from bench.make_jpeg_folder import make
    from nasx.data.lookup import ensure_prepared
    from nasx.data.sources import describe

    src = Path(folder) if folder else tmp / "jpeg"
    if not folder:
        train, val, classes = (100, 20, 10) if quick else (20000, 1000, 100)
        t0 = time.perf_counter()
        make(src, train, val, classes)
        print(f"prepare: made {train + val} JPEGs of ~400x350 px, q90, {classes} classes in "
              f"{time.perf_counter() - t0:.1f} s")
    sizes = [(72, "raw"), (64, "raw"), (224, "raw"), (256, "jpeg")]
    for size, fmt in sizes if not quick else [(64, "raw"), (64, "jpeg")]:
        spec = describe("imagefolder", str(src), size, 3)
        n = sum(spec.counts.values())
        t0 = time.perf_counter()
        store, _ = ensure_prepared(spec, tmp / f"store{size}{fmt}", fmt=fmt)
        dt = time.perf_counter() - t0
        mb = store.header.total_bytes / 1e6
        print(f"prepare: {n} images -> {fmt} {size} px on {_cores()} cores: {dt:.1f} s wall, "
              f"{n / dt:,.0f} images/s; {mb:.1f} MB ({mb * 1e3 / n:.1f} KB per image)")
        os.environ["NASX_PREPARE_WORKERS"] = "1"  # in this process: its CPU time is measurable
        cpu = time.process_time()
        ensure_prepared(spec, tmp / f"one{size}{fmt}", fmt=fmt)
        cpu = time.process_time() - cpu
        del os.environ["NASX_PREPARE_WORKERS"]
        print(f"prepare: the same in one process: {n / cpu:,.0f} images per CPU-second")
    return src


def _synthetic(n: int, size: int, test: int = 1000) -> object:
    from nasx.train.recipe import Recipe

    return Recipe(data="synthetic", synthetic_train=n, synthetic_test=test, epochs=1,
                  batch_size=256, threads=1, lr=0.05, val_fraction=0.05)


def bench_gather(quick: bool) -> None:
    """Random 256-image batches from a 64 px store, on one core."""
    import numpy as np
    import torch

    from nasx.data import load_dataset

    torch.set_num_threads(1)
    n = 4000 if quick else 30000
    ds = load_dataset(_synthetic(n, 64), 64, 3, "cpu")
    x = ds.x_train
    rng = np.random.default_rng(0)
    batches = [rng.permutation(len(x))[:256] for _ in range(20 if quick else 200)]
    from nasx.data.augment import random_crop_flip

    gen = torch.Generator().manual_seed(0)
    for name, fn in (("uint8 rows", lambda b: x.rows.read(x.index[b])),
                     ("normalised float inputs", x.gather),
                     ("normalised + crop/flip (as pycls-style below)",
                      lambda b: random_crop_flip(x.gather(b), gen))):
        fn(batches[0])
        t0, c0 = time.perf_counter(), time.process_time()
        for b in batches:
            fn(b)
        rate = len(batches) * 256 / (time.perf_counter() - t0)
        per_cpu = len(batches) * 256 / (time.process_time() - c0)
        print(f"gather: {n} images at 64 px, batches of 256, {name}: {rate:,.0f} images/s wall,"
              f" {per_cpu:,.0f} images per CPU-second (one thread)")


def _model(classes: int = 10) -> object:
    from torch import nn

    return nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                         nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, classes))


def _epoch(x: object, y: object, seed: int = 0) -> float:
    """Images/s of one training epoch (batches from train_batches, crop + flip, SGD)."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    from nasx.data.augment import random_crop_flip, train_batches

    torch.manual_seed(seed)
    model = _model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    gen = torch.Generator().manual_seed(seed)
    seen, t0 = 0, time.process_time()
    for xb, yb in train_batches(x, y, 256, gen):
        xb = random_crop_flip(xb, gen)
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        seen += yb.shape[0]
    return seen / (time.process_time() - t0)  # per CPU-second: what load on the machine spares


def bench_train(quick: bool) -> None:
    """One epoch streamed from the store vs from an in-memory tensor (same model, same data)."""
    import torch

    from nasx.data import load_dataset

    torch.set_num_threads(1)
    n = 1024 if quick else 10000
    ds = load_dataset(_synthetic(n, 64), 64, 3, "cpu")
    whole = ds.x_train.tensor()
    rates = {"in-memory": [], "streamed": []}
    for _ in range(2 if quick else 3):  # alternate, keep the best of each
        rates["in-memory"].append(_epoch(whole, ds.y_train))
        rates["streamed"].append(_epoch(ds.x_train, ds.y_train))
    best = {k: max(v) for k, v in rates.items()}
    print(f"train: {len(whole)} images at 64 px, one thread: in-memory {best['in-memory']:,.0f}"
          f" images per CPU-second, streamed {best['streamed']:,.0f} "
          f"({100 * best['streamed'] / best['in-memory']:.0f}%)")


def bench_pycls(src: Path, quick: bool) -> None:
    """Pillow + DataLoader worker processes vs nasx's store, at 64 px with crop/flip."""
    import torch
    from torch.utils.data import DataLoader, Dataset

    from nasx.data.augment import random_crop_flip
    from nasx.data.imagesrc import decode_image

    files = sorted((src / "train").rglob("*.jpg"))[: 2048 if quick else 20000]

    class Folder(Dataset):  # what pycls's ImageFolder-style loader does per image
        def __len__(self) -> int:
            return len(files)

        def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
            return torch.from_numpy(decode_image(str(files[i]), 64, "RGB").copy()), i % 10

    workers = _cores()
    loader = DataLoader(Folder(), batch_size=256, shuffle=True, num_workers=workers,
                        persistent_workers=False, generator=torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(0)
    t0, seen = time.perf_counter(), 0
    c0 = time.process_time() + _children_cpu()
    for xb, _ in loader:
        random_crop_flip(xb.float() / 255, gen)
        seen += xb.shape[0]
    del loader  # its worker processes exit: their CPU time is counted
    rate = seen / (time.perf_counter() - t0)
    cpu = time.process_time() + _children_cpu() - c0
    print(f"pycls-style: {seen} JPEGs at 64 px, Pillow in {workers} DataLoader workers: "
          f"{rate:,.0f} images/s wall, {seen / cpu:,.0f} images per CPU-second")


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _peak(argv: list[str], env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, str(HERE / "mem_probe.py"), *argv], env=env,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def bench_memory(tmp: Path, quick: bool) -> None:
    """Peak private memory of a training process for N and 4N images, and of bare torch."""
    env = dict(os.environ, PYTHONPATH=str(HERE.parent), NASX_CACHE=str(tmp / "memcache"))
    n = 1500 if quick else 20000
    print(f"memory: bare torch, same model on random tensors: {_peak(['bare'], env)} MB private")
    for k in (n, 4 * n):
        print(f"memory: synthetic {k} images at 32 px, one epoch: {_peak([str(k)], env)} MB "
              "private (peak)")


def bench_idx() -> None:
    """Fashion-MNIST: decode, and the prepared store's first and later opens."""
    from nasx.data.fashion_mnist import DEFAULT_DIR
    from nasx.data.idx import load_idx_arrays
    from nasx.data.lookup import store_for
    from nasx.train.recipe import Recipe

    if not Path(DEFAULT_DIR).is_dir():
        print("idx: Fashion-MNIST not installed; skipped")
        return
    t0 = time.perf_counter()
    load_idx_arrays(DEFAULT_DIR, use_cache=False)
    t1 = time.perf_counter()
    store_for(Recipe(data="fashion_mnist"), 28, 1)
    t2 = time.perf_counter()
    store_for(Recipe(data="fashion_mnist"), 28, 1)
    t3 = time.perf_counter()
    print(f"idx: Fashion-MNIST decode {t1 - t0:.2f} s; first prepare {t2 - t1:.2f} s; "
          f"open prepared {1000 * (t3 - t2):.1f} ms")


def main() -> None:
    """Run the chosen sections."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes: seconds, not minutes")
    ap.add_argument("--only", default=",".join(SECTIONS))
    ap.add_argument("--folder", default=None, help="an image folder to prepare instead")
    args = ap.parse_args()
    only = set(args.only.split(","))
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["NASX_CACHE"] = str(tmp / "cache")
        print(f"bench_data ({'quick' if args.quick else 'full'}), {_cores()} cores")
        src = bench_prepare(tmp, args.quick, args.folder) if only & {"prepare", "pycls"} else None
        if "gather" in only:
            bench_gather(args.quick)
        if "train" in only:
            bench_train(args.quick)
        if "pycls" in only and src is not None:
            bench_pycls(src, args.quick)
        if "memory" in only:
            bench_memory(tmp, args.quick)
        if "idx" in only:
            bench_idx()


if __name__ == "__main__":
    main()
