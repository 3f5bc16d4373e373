"""Computing every zero-cost proxy for 100 models of a digits space through ``nasx proxies``.

    python bench/bench_proxies.py [--space nasx/spaces/regnet_digits.yaml] [--n 100]
                                  [--threads 1] [--batch-size 64] [--batches 1] [--quick]

Samples --n models into a fresh temporary run and times ``nasx proxies RUN`` (data loading, one
fresh seeded model per proxy, the store writes) on --threads torch threads; prints the wall and
CPU seconds in all and per model. One thread is the
command's default: on the 2-core CI machine a second thread only adds synchronisation to these
small models (7.5 s instead of 3.3 s for 20 models).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import tempfile
import time
from pathlib import Path


def main() -> None:
    """Print the timing."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--space", default=str(Path(__file__).parents[1] / "nasx" / "spaces"
                                           / "regnet_digits.yaml"))
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--batches", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="4 models: the test suite's smoke run")
    args = ap.parse_args()
    if args.quick:
        args.n = min(args.n, 4)

    from nasx.cli.main import main as nasx
    from nasx.sample import create_run
    from nasx.store import RunStore
    from nasx.store.proxies import get_proxies

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        store, _ = create_run(args.space, n=args.n, seed=0, out=out, progress=False)
        store.close()
        cpu, wall = time.process_time(), time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = nasx(["proxies", str(out), "--batch-size", str(args.batch_size),
                         "--batches", str(args.batches), "--threads", str(args.threads),
                         "--no-progress"])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with RunStore.open(out, readonly=True) as store:
            done = len(get_proxies(store))
    print(f"nasx proxies: {done} of {args.n} models of {Path(args.space).name}, every proxy,"
          f" batch {args.batches} x {args.batch_size}, {args.threads} threads: {wall:.1f} s wall"
          f" ({1000 * wall / max(done, 1):.0f} ms per model), {cpu:.1f} s CPU, exit {code}")


if __name__ == "__main__":
    main()
