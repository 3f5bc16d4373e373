"""Every failure the CLI meets ends in one line on stderr and exit 2, never a traceback: damaged
run folders (parametrized over kinds of damage), errors that hostile input can raise anywhere,
and control characters from user files, which reach the terminal escaped."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import nasx.cli.ls as ls_cli
from nasx.cli.main import main
from nasx.store import RunStore
from nasx.store.run_store import DB_NAME

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))

from store_corrupt import CORRUPTIONS, build_run, damaged_run  # noqa: E402


def _one_line(err: str, verb: str) -> str:
    assert err.startswith(f"nasx {verb}: error: "), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert len(err) < 600
    return err


# Damage in what `ls RUN` does not read (the run metadata, the fingerprint index at 30% of this
# file): it may list the trials.
LS_BLIND = {"meta-invalid-json", "page-ff-30%"}


@pytest.mark.parametrize("fmt", ["table", "json"])
@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_ls_of_a_damaged_run_is_one_line_and_exit_2(tmp_path, capsys, kind, fmt):
    root = damaged_run(tmp_path, kind)
    code = main(["ls", str(root), "--format", fmt])
    err = capsys.readouterr().err
    if (CORRUPTIONS[kind][1] and kind not in LS_BLIND) or code != 0:
        assert code == 2
        _one_line(err, "ls")
    else:
        assert err == ""


@pytest.mark.parametrize("kind", ["page-ff-50%", "empty-file"])
def test_no_traceback_from_a_real_process(tmp_path, kind):
    root = damaged_run(tmp_path, kind)
    verbs = [["ls", str(root)], ["ls", str(root), "--format", "csv"]]
    if kind == "empty-file":  # `describe RUN` reads no trial: only damage seen on opening
        verbs.append(["describe", str(root)])
    for args in verbs:
        proc = subprocess.run([sys.executable, "-m", "nasx", *args], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2, (args, proc.stderr)
        _one_line(proc.stderr, args[0])


def test_ls_of_a_folder_skips_damaged_runs_with_a_note(tmp_path, capsys):
    build_run(tmp_path / "a-good", name="good")
    kinds = ("db-is-folder", "empty-file", "foreign-db", "json-invalid-values", "not-sqlite")
    for kind in kinds:
        damaged_run(tmp_path, kind, name=f"b-{kind}")
    (tmp_path / "c-no-run").mkdir()
    assert main(["ls", str(tmp_path), "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert [r["name"] for r in json.loads(out)] == ["good"]
    notes = err.splitlines()
    assert len(notes) == len(kinds)
    for kind, note in zip(kinds, notes, strict=True):
        assert note.startswith("nasx ls: skipping a run: ") and f"b-{kind}" in note
    assert main(["ls", str(tmp_path)]) == 0  # the table too
    assert "good" not in capsys.readouterr().err


def test_ls_never_writes_into_an_empty_run_db(tmp_path, capsys):
    run = tmp_path / "runs" / "x"
    run.mkdir(parents=True)
    (run / DB_NAME).write_bytes(b"")
    assert main(["ls", str(run)]) == 2
    assert "empty (0 bytes)" in _one_line(capsys.readouterr().err, "ls")
    assert main(["ls", str(run.parent)]) == 0
    assert "empty (0 bytes)" in capsys.readouterr().err
    assert (run / DB_NAME).stat().st_size == 0
    assert sorted(p.name for p in run.iterdir()) == [DB_NAME]


def test_ls_leaves_a_good_run_folder_as_it_was(tmp_path, capsys):
    root = build_run(tmp_path / "run")
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    for fmt in ("table", "json", "csv"):
        assert main(["ls", str(root), "--format", fmt]) == 0
    assert main(["ls", str(tmp_path)]) == 0
    capsys.readouterr()
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before


INPUT_PROBLEMS = [
    (OverflowError("int too large to convert to float"), "a number is too large"),
    (RecursionError("maximum recursion depth exceeded"), "nested too deeply"),
    (MemoryError(), "out of memory"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "not valid UTF-8"),
    (IsADirectoryError(21, "Is a directory", "runs/x/driver.lock"),
     "runs/x/driver.lock: Is a directory"),
    (PermissionError(13, "Permission denied", "runs/x/run.db"), "Permission denied"),
    (sqlite3.OperationalError("disk I/O error"), "run database error (disk I/O error)"),
]


@pytest.mark.parametrize(("exc", "expected"), INPUT_PROBLEMS,
                         ids=[type(e).__name__ for e, _ in INPUT_PROBLEMS])
def test_last_line_of_defence(monkeypatch, capsys, exc, expected):
    def boom(args):
        raise exc

    monkeypatch.setattr(ls_cli, "run", boom)
    assert main(["ls", "anything"]) == 2
    err = _one_line(capsys.readouterr().err, "ls")
    assert expected in err and "--debug" in err
    with pytest.raises(type(exc)):
        main(["--debug", "ls", "anything"])


def test_a_bug_keeps_its_traceback(monkeypatch):
    def bug(args):
        raise KeyError("oops")

    monkeypatch.setattr(ls_cli, "run", bug)
    with pytest.raises(KeyError):
        main(["ls", "anything"])


def test_broken_pipe_in_process_is_quiet(monkeypatch, capsys, tmp_path):
    root = build_run(tmp_path / "run", n=4)

    class Closed:
        def write(self, text: str) -> int:
            raise BrokenPipeError

        def flush(self) -> None:
            raise BrokenPipeError

        def isatty(self) -> bool:
            return False

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["ls", str(root), "--format", "csv"]) == 141
    assert capsys.readouterr().err == ""


ESC = "\x1b"
HOSTILE = {"name": f"{ESC}[2J{ESC}]0;pwned\x07evil", "markup": "[bold red]x[/]", "broken": "[/oops]"}


def test_control_characters_and_markup_from_user_files_are_escaped(tmp_path, capsys):
    root = build_run(tmp_path / "run", n=2)
    with RunStore.open(root) as store:
        store.set_meta(name=HOSTILE["name"], family=HOSTILE["name"])
    conn = sqlite3.connect(root / DB_NAME)
    conn.execute("UPDATE trials SET arch_values = ? WHERE id = 1",
                 (json.dumps({"depth": HOSTILE["name"], "w0": HOSTILE["markup"],
                              "wm": HOSTILE["broken"]}),))
    conn.commit()
    conn.close()
    for args in (["ls", str(root)], ["ls", str(tmp_path)], ["ls", str(root), "--format", "json"],
                 ["ls", str(tmp_path), "--format", "json"], ["ls", str(root), "--format", "csv"],
                 ["ls", str(tmp_path), "--format", "csv"]):
        assert main(args) == 0
        out = capsys.readouterr().out
        assert ESC not in out and "\x07" not in out
    assert main(["ls", str(root)]) == 0  # values: escaped, rich markup shown as it is
    out = capsys.readouterr().out
    assert "\\x1b[2J\\x1b]0;pwned\\x07evil" in out and "[bold red]x[/]" in out and "[/oops]" in out
    assert main(["ls", str(tmp_path)]) == 0  # the family column of the folder listing
    assert "\\x1b[2J" in capsys.readouterr().out
    # an error message that quotes a user path
    assert main(["ls", str(tmp_path / f"no{ESC}[31mrun")]) == 2
    err = _one_line(capsys.readouterr().err, "ls")
    assert ESC not in err and "no\\x1b[31mrun" in err


def test_a_folder_where_the_lock_file_should_be(tmp_path):
    root = build_run(tmp_path / "run", n=2)
    (root / "driver.lock").mkdir()
    proc = subprocess.run([sys.executable, "-m", "nasx", "train", str(root), "--epochs", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "driver.lock" in _one_line(proc.stderr, "train")


def test_a_space_copy_that_is_not_utf8(tmp_path, capsys):
    root = build_run(tmp_path / "run", n=2)
    (root / "space.yaml").write_bytes(b"name: \xff\xfe\n")
    assert main(["ls", str(root), "--format", "json"]) == 0  # ls does not need it
    capsys.readouterr()
    proc = subprocess.run([sys.executable, "-m", "nasx", "train", str(root), "--epochs", "1"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "space.yaml" in _one_line(proc.stderr, "train")


@pytest.mark.parametrize("args", [["--help"], ["ls", "--help"]], ids=["nasx", "ls"])
def test_help_into_a_closed_pipe_is_quiet(args):
    proc = subprocess.Popen([sys.executable, "-m", "nasx", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) in (0, 141) and err == b""


SPACE_VERBS = ("sample", "run", "describe")


@pytest.mark.parametrize("verb", SPACE_VERBS)
def test_a_fifo_as_the_space_file_is_refused_not_read(tmp_path, verb):
    import os

    fifo = tmp_path / "space.yaml"
    os.mkfifo(fifo)
    # In a child with a timeout: reading a FIFO with no writer would block forever.
    res = subprocess.run([sys.executable, "-m", "nasx", verb, str(fifo), "--out",
                          str(tmp_path / "r")] if verb != "describe" else
                         [sys.executable, "-m", "nasx", verb, str(fifo)],
                         capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "a FIFO, not a regular file" in _one_line(res.stderr, verb)
    assert not (tmp_path / "r").exists()


# (describe takes a folder as a run folder to describe: its own tests cover that)
@pytest.mark.parametrize("verb, what", [(v, w) for v in SPACE_VERBS for w in ("device", "folder")
                                        if (v, w) != ("describe", "folder")])
def test_a_device_or_folder_as_the_space_file_is_one_line(tmp_path, capsys, verb, what):
    target = "/dev/null" if what == "device" else str(tmp_path)
    argv = [verb, target] + (["--out", str(tmp_path / "r")] if verb != "describe" else [])
    assert main(argv) == 2
    err = _one_line(capsys.readouterr().err, verb)
    assert ("character device, not a regular file" in err if what == "device"
            else "is a folder" in err)
