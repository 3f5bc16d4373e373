"""Every bench/ script runs in its quick mode on CPU and prints figures (issue 24).

The benchmarks are no part of the package, so nothing else would notice when a refactor breaks
one. Each runs here as a user runs it (``python bench/SCRIPT.py --quick``, a fresh interpreter,
this checkout on PYTHONPATH, a scratch working folder); the test checks its exit status and that
it printed a figure, never its timings. The slow ones (several nasx commands, or Ray) carry the
slow marker.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
FMNIST = Path("/usr/share/datasets/fashion-mnist")
FIGURE = re.compile(r"\d+\.\d+ ?(s|ms|M images/s)\b|\d+ training images/s|s/trial")

# script -> (extra arguments after --quick, slow?)
QUICK: dict[str, tuple[list[str], bool]] = {
    "bench_data.py": ([], False),
    "bench_eval_shapes.py": ([], True),  # three fresh processes
    "bench_overhead.py": ([], False),
    "bench_proxies.py": ([], False),
    "bench_prune.py": ([], True),
    "bench_report.py": ([], True),
    "bench_sample.py": ([], False),
    "bench_study_fmnist.py": (["--out", "study"], True),
    "bench_study_fmnist6.py": (["--out", "study6"], True),
    "bench_threads.py": ([], True),  # a nasx run in a fresh process
    # RESULTS.md's first command has --threads 2; one thread here, since two threads spin against
    # the other processes of a loaded 2-core machine (bench/RESULTS.md, "Threads per trial")
    "bench_train.py": (["spaces/regnet.yaml", "--threads", "1", "--json", "figures.json"], False),
}


def run_bench(script: str, args: list[str], cwd: Path, timeout: float = 600) -> str:
    """Run one benchmark as a user would; its output (AssertionError with it on failure)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "CUDA_VISIBLE_DEVICES")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    env["CUDA_VISIBLE_DEVICES"] = ""  # CPU even on a GPU machine: the smoke run, not the figures
    proc = subprocess.run([sys.executable, str(BENCH / script), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{script} {' '.join(args)} exited {proc.returncode}:\n{out[-3000:]}"
    return proc.stdout


def test_every_bench_script_has_a_quick_run_here() -> None:
    scripts = {p.name for p in BENCH.glob("bench_*.py")}
    assert scripts == set(QUICK)
    for name in scripts:
        assert "--quick" in (BENCH / name).read_text(), name
    # the other files are tools a benchmark runs (so its quick run runs them too)
    sources = "".join((BENCH / name).read_text() for name in scripts)
    for tool in BENCH.glob("*.py"):
        if tool.name not in scripts:
            assert tool.stem in sources, f"{tool.name} is run by no bench script"


@pytest.mark.parametrize("script", [
    pytest.param(name, marks=[pytest.mark.slow] if slow else [])
    for name, (_, slow) in QUICK.items()
])
def test_quick_mode_runs_and_prints_figures(script: str, tmp_path: Path) -> None:
    if script in ("bench_data.py", "bench_study_fmnist.py",
                  "bench_study_fmnist6.py") and not FMNIST.is_dir():
        pytest.skip(f"needs Debian's dataset-fashion-mnist ({FMNIST})")
    out = run_bench(script, ["--quick", *QUICK[script][0]], tmp_path)
    assert FIGURE.search(out), out[-2000:]
    if script == "bench_train.py":  # the command bench/RESULTS.md gives first
        check_bench_train(out, tmp_path / "figures.json")


def check_bench_train(out: str, figures: Path) -> None:
    """A line per model (both trained) and the summary, on screen and in --json."""
    rows = [line for line in out.splitlines() if re.match(r"\s+[12] ", line)]
    assert len(rows) == 2 and all(" done " in r for r in rows), out
    assert "models per CPU-hour on cpu" in out
    summary = json.loads(figures.read_text())
    assert summary["models"] == 2 and summary["images_per_second"] > 0
    assert summary["peak_memory_mb"] is None  # measured on CUDA only


@pytest.mark.slow
def test_bench_train_packing_cpu_check(tmp_path: Path) -> None:
    """The packing mode's steps (its run, nasx train through Ray, the figures from the store)."""
    out = run_bench("bench_train.py", ["spaces/regnet.yaml", "--quick", "--packing", "1",
                                       "--cpu-check", "--out", "packing"], tmp_path)
    row = next(line for line in out.splitlines() if re.match(r"\s+1\s+\d+\s+\d+ ", line))
    assert row.split()[1:3] == ["2", "0"], out  # 2 done, 0 failed
    assert "not GPU figures" in out


def test_gpu_first_run_says_in_one_line_that_it_needs_a_gpu(tmp_path: Path) -> None:
    """On a CPU machine the GPU script records nothing and says why (exit 2); bash -n parses it."""
    script = BENCH / "gpu_first_run.sh"
    assert subprocess.run(["bash", "-n", str(script)], check=False).returncode == 0
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "no usable CUDA GPU" in proc.stderr
    assert not (BENCH / "gpu_first_run" / "cpu").exists()
