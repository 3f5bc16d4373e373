"""SIGKILL of `nasx data prepare` at any moment, then the same command: the same complete store."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nasx.data.prepared import HEADER, verify_store

REPO = Path(__file__).resolve().parents[2]
ARGV = [sys.executable, "-m", "nasx", "data", "prepare", "--data", "synthetic", "--size", "16",
        "--synthetic-train", "30000", "--synthetic-test", "1000"]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ, NASX_CACHE=str(tmp_path / "cache"), NASX_PREPARE_CHUNK="256",
               NASX_PREPARE_SYNC="0")  # a durable progress record after every chunk
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [env.get("PYTHONPATH")])])
    return env


def _kill_when_started(argv: list[str], env: dict[str, str], partial: Path, delay: float) -> int:
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (partial / "progress.json").exists() and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    return proc.wait()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["raw", "jpeg"])
def test_sigkill_then_rerun_gives_the_same_store(tmp_path: Path, fmt: str) -> None:
    env = _env(tmp_path)
    argv = [*ARGV, "--format", fmt]
    ref = tmp_path / "ref"
    subprocess.run([*argv, "--out", str(ref)], env=env, check=True, capture_output=True)
    want = json.loads((ref / HEADER).read_text())["checksum"]
    out = tmp_path / "killed"
    partial = out.with_name("killed.partial")
    killed = 0
    for delay in (0.0, 0.05, 0.2):  # three kills at different moments of one conversion
        if _kill_when_started([*argv, "--out", str(out)], env, partial, delay) == -9:
            killed += 1
            assert not (out / HEADER).exists() and not (partial / HEADER).exists()
    assert killed >= 1
    done = subprocess.run([*argv, "--out", str(out)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr or "already prepared" in done.stdout
    assert verify_store(out).checksum == want and not partial.exists()
