"""Progress: the live display fits 80 columns; off a terminal it is plain, periodic log lines."""

from __future__ import annotations

import io
import re
from pathlib import Path

import exec_fakes
import pytest
from exec_helpers import fake_run
from rich.cells import cell_len
from rich.console import Console

from nasx.execute import ExecOptions, train_run
from nasx.execute.progress import ProgressView

LINE = re.compile(r"train: (\d+)/(\d+) finished: done (\d+), running (\d+), failed (\d+), "
                  r"diverged (\d+), best (-|\d+\.\d\d% \(#\d+\)), elapsed \d+:\d\d:\d\d, "
                  r"ETA (-|\d+:\d\d:\d\d)")


@pytest.mark.parametrize(("total", "width"), [(1, 80), (8, 80), (1000, 80), (99_999, 80),
                                              (99_999, 60)])
def test_live_display_fits_the_terminal(total, width):
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=True, color_system=None)
    big = {"pending": 0, "running": 9999, "done": total - 1, "failed": 99_999, "diverged": 99_999}
    view = ProgressView(total, big, (100.0, 99_999), console=console)
    view.move("running", "done", 100.0, 99_998)
    console.print(view.renderable())
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2 and all(cell_len(x) <= width for x in lines), lines
    assert lines[0].startswith("train ") and f"1/{total}" in lines[0] and "ETA" in lines[0]
    if width == 80:  # every count and the best trial are shown whole at 80 columns
        assert lines[1] == (f"done {total}, running 9998, failed 99999, diverged 99999, "
                            "best 100.00% (#99998)")


def test_off_a_terminal_progress_is_plain_periodic_lines():
    buf = io.StringIO()
    console = Console(file=buf, width=80, force_terminal=False)
    with ProgressView(20, {"pending": 20}, None, console=console, log_seconds=3600) as view:
        for i in range(1, 21):
            view.move("pending", "running")
            view.move("running", "failed" if i == 5 else "done", None if i == 5 else 30.0 - i, i)
    text = buf.getvalue()
    assert "\x1b" not in text and "\r" not in text
    found = [LINE.fullmatch(x) for x in text.splitlines()]
    assert all(found), text
    # every tenth of the trials (2 here), and the last one
    assert [int(m[1]) for m in found if m] == list(range(2, 21, 2))
    last = found[-1]
    assert last is not None and last.groups()[1:7] == ("20", "19", "0", "1", "0",
                                                       "10.00% (#20)")


def test_plain_lines_also_every_few_seconds_and_where_a_session_stops():
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=False)
    with ProgressView(100, {"pending": 100}, None, console=console, log_seconds=0.0) as view:
        for _ in range(3):  # log_seconds 0: every finished trial is due
            view.move("pending", "running")
            view.move("running", "diverged")
    assert [x.split(" finished")[0] for x in buf.getvalue().splitlines()] == [
        "train: 1/100", "train: 2/100", "train: 3/100"]
    buf = io.StringIO()
    with ProgressView(100, {"pending": 100}, None, console=Console(file=buf, force_terminal=False)
                      ) as view:
        view.move("pending", "running")
        view.move("running", "done", 5.0, 1)
    assert buf.getvalue().startswith("train: 1/100 finished") and buf.getvalue().count("\n") == 1


def test_no_progress_writes_nothing():
    buf = io.StringIO()
    for tty in (True, False):
        console = Console(file=buf, force_terminal=tty)
        with ProgressView(2, {"pending": 2}, None, enabled=False, console=console) as view:
            view.move("pending", "running")
            view.move("running", "done", 1.0, 1)
    assert buf.getvalue() == ""


def test_train_run_logs_plain_lines_to_a_redirected_stderr(tmp_path: Path, scratch, capsys):
    store = fake_run(tmp_path / "run", 3)
    opts = ExecOptions(executor="inline", progress=True,
                       overrides={"data_dir": str(scratch), "lr": 0.001})
    train_run(store, opts, trial_fn=exec_fakes.ok_trial)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(LINE.fullmatch(x) for x in lines), lines
    assert lines[-1].startswith("train: 3/3 finished: done 3, running 0, failed 0, diverged 0,"
                                " best 2.00% (#3)")
