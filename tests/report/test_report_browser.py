"""The report renders in headless Chromium from file:// and every figure decodes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                       else None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,4000"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None,
                       reason="headless Chromium not found: install Debian's chromium"
                              " (apt-get install chromium)"),
]


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def test_report_renders_with_every_figure(report_ab, tmp_path):
    url = report_ab.resolve().as_uri()
    shot = tmp_path / "shot.png"
    res = _chromium([f"--screenshot={shot}", url], tmp_path / "p1")
    assert shot.is_file(), res.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000
    # The page's own script counts decoded images on the load event; dump the DOM after it.
    res = _chromium(["--dump-dom", "--virtual-time-budget=5000", url], tmp_path / "p2")
    status = re.search(r'id="img-status" data-total="(\d+)" data-loaded="(\d+)"', res.stdout)
    assert status, res.stdout[-500:] + res.stderr[-2000:]
    total, loaded = int(status.group(1)), int(status.group(2))
    # EDFs, best of k, two trend figures, stages; no normalised one (the plain comparison carries)
    assert total == report_ab.read_text().count("<img ") == 5
    assert loaded == total


def test_a_report_of_seven_runs_shows_headlines_first(seven_runs_report, tmp_path):
    url = seven_runs_report.resolve().as_uri()
    res = _chromium(["--dump-dom", "--virtual-time-budget=5000", url], tmp_path / "p")
    dom = res.stdout
    status = re.search(r'id="img-status" data-total="(\d+)" data-loaded="(\d+)"', dom)
    assert status, dom[-500:] + res.stderr[-2000:]
    assert int(status.group(1)) == int(status.group(2)) >= 6  # the normalised panels too
    heads = [m.start() for m in re.finditer(r'<p class="headline">', dom)]
    assert len(heads) == 21  # one per pair of 7 runs
    # every headline comes before any full verdict, which is collapsed
    first_detail = dom.index("<details>")
    assert max(heads) < first_detail and '<p class="verdict">' not in dom[:first_detail]
    assert dom.count("<details>") == 21
