"""Peak private memory (MB) of one training process: ``mem_probe.py N`` or ``mem_probe.py bare``.

N: one epoch of a small CNN on synthetic data of N images at 32 px, from the prepared store (a
fresh process; the store is prepared first, outside the measurement, in a child process).
bare: the same model trained for as many steps on random tensors, no data set at all.
Private memory is Private_Clean + Private_Dirty of /proc/self/smaps_rollup, sampled every 10 ms.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path


def private_mb() -> float:
    """Private_Clean + Private_Dirty of this process, MB."""
    kb = 0
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            kb += int(line.split()[1])
    return kb / 1024


def _recipe(n: int) -> object:
    from nasx.train.recipe import Recipe

    return Recipe(data="synthetic", synthetic_train=n, synthetic_test=1100, val_fraction=0.1,
                  epochs=1, batch_size=256, threads=1, lr=0.05)


def main() -> None:
    """Print the peak private memory of the chosen workload."""
    what = sys.argv[1]
    if what.startswith("prepare:"):
        from nasx.data.lookup import store_for

        store_for(_recipe(int(what.split(":")[1])), 32, 3)  # type: ignore[arg-type]
        return
    if what != "bare":
        subprocess.run([sys.executable, __file__, f"prepare:{what}"], check=True)
    import torch
    import torch.nn.functional as F  # noqa: N812

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_data import _model

    torch.set_num_threads(1)
    peak = [private_mb()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.01):
            peak[0] = max(peak[0], private_mb())

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    if what == "bare":
        model = _model()
        opt = torch.optim.SGD(model.parameters(), lr=0.05)  # type: ignore[attr-defined]
        for _ in range(40):
            loss = F.cross_entropy(model(torch.randn(256, 3, 32, 32)),  # type: ignore[operator]
                                   torch.randint(0, 10, (256,)))
            opt.zero_grad()
            loss.backward()
            opt.step()
    else:
        from nasx.data import load_dataset
        from nasx.train.loop import fit

        data = load_dataset(_recipe(int(what)), 32, 3, "cpu")  # type: ignore[arg-type]
        fit(_model(), data, _recipe(int(what)), seed=0,  # type: ignore[arg-type]
            device=torch.device("cpu"))
    stop.set()
    t.join()
    print(f"{max(peak[0], private_mb()):.0f}")


if __name__ == "__main__":
    main()
