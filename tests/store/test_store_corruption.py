"""A damaged run folder ends every store read (and write) in one-line StoreError, never another
exception; opening writes nothing into a folder that is not a valid run."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from nasx.errors import StoreError
from nasx.store import RunStore
from nasx.store.run_store import DB_NAME

sys.path.insert(0, str(Path(__file__).parent))

from store_corrupt import CORRUPTIONS, N_TRIALS, build_run, damaged_run  # noqa: E402

READS: dict[str, Callable[[RunStore], Any]] = {
    "meta": lambda s: s.meta(),
    "counts": lambda s: s.counts(),
    "trials": lambda s: s.trials(),
    "trials-done": lambda s: s.trials(status="done"),  # walks the status index
    "fingerprints": lambda s: s.fingerprints(),  # walks the fingerprint index
    "get": lambda s: [s.get(i) for i in (1, N_TRIALS // 2, N_TRIALS)],
    "dataframe": lambda s: s.dataframe(),
}


def _read_all(root: Path, readonly: bool) -> list[StoreError]:
    """Every read of the store; the StoreErrors they raised (anything else fails the test)."""
    errors: list[StoreError] = []
    try:
        store = RunStore.open(root, readonly=readonly)
    except StoreError as exc:
        return [exc]
    with store:
        for read in READS.values():
            try:
                read(store)
            except StoreError as exc:
                errors.append(exc)
    return errors


@pytest.mark.parametrize("readonly", [True, False], ids=["ro", "rw"])
@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_every_read_of_a_damaged_run_is_a_one_line_store_error(tmp_path, kind, readonly):
    root = damaged_run(tmp_path, kind)
    errors = _read_all(root, readonly)
    if CORRUPTIONS[kind][1]:
        assert errors, f"{kind}: no reader noticed the damage"
    for exc in errors:
        text = str(exc)
        assert "\n" not in text and len(text) < 400, text
        assert DB_NAME in text or str(root) in text


@pytest.mark.parametrize("kind", ["json-invalid-metrics", "int-is-text", "text-not-utf8",
                                  "unknown-status", "json-deep"])
def test_row_damage_names_the_trial_and_column(tmp_path, kind):
    root = damaged_run(tmp_path, kind)
    with RunStore.open(root, readonly=True) as store, pytest.raises(StoreError) as info:
        store.trials()
    text = str(info.value)
    expected = {"json-invalid-metrics": "trial 6: column 'metrics' is not valid JSON",
                "int-is-text": "trial 5: column 'flops' holds a str value, expected an integer",
                "text-not-utf8": "Could not decode to UTF-8 column 'message')",
                "unknown-status": "trial 5: column 'status' holds an unknown status 'zombie'",
                "json-deep": "trial 5: column 'hparams' is not valid JSON (RecursionError)"}
    assert expected[kind] in text
    assert "\\xff" not in text and "\x1b" not in text  # the undecodable cell is not quoted


@pytest.mark.parametrize("kind", ["page-ff-50%", "json-invalid-metrics"])
def test_writes_to_a_damaged_run_are_store_errors(tmp_path, kind):
    root = damaged_run(tmp_path, kind)
    try:
        store = RunStore.open(root)
    except StoreError:
        return
    with store:
        for write in (lambda: store.finish(4, "failed", message="x"),
                      lambda: store.set_meta(note="x"), lambda: store.requeue_stale()):
            try:
                write()
            except StoreError as exc:
                assert "\n" not in str(exc)


@pytest.mark.parametrize("readonly", [True, False], ids=["ro", "rw"])
@pytest.mark.parametrize("content", [b"", b"SQLite format 3\x00" + b"\x00" * 20],
                         ids=["empty", "short"])
def test_opening_writes_nothing_into_a_folder_that_is_no_run(tmp_path, content, readonly):
    (tmp_path / DB_NAME).write_bytes(content)
    with pytest.raises(StoreError, match="empty|not an SQLite database"):
        RunStore.open(tmp_path, readonly=readonly)
    assert (tmp_path / DB_NAME).read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_NAME]


@pytest.mark.parametrize("readonly", [True, False], ids=["ro", "rw"])
def test_a_foreign_sqlite_file_keeps_its_journal_mode(tmp_path, readonly):
    conn = sqlite3.connect(tmp_path / DB_NAME)
    conn.execute("CREATE TABLE notes (x TEXT)")
    conn.commit()
    conn.close()
    before = (tmp_path / DB_NAME).read_bytes()
    with pytest.raises(StoreError, match="not a nasx run database"):
        RunStore.open(tmp_path, readonly=readonly)
    assert (tmp_path / DB_NAME).read_bytes() == before  # not converted to WAL
    assert sorted(p.name for p in tmp_path.iterdir()) == [DB_NAME]


def test_readonly_store_reads_leaves_the_folder_as_it_was_and_refuses_writes(tmp_path):
    root = build_run(tmp_path / "run")
    before = {p.name: p.read_bytes() for p in root.iterdir()}
    with RunStore.open(root, readonly=True) as store:
        assert len(store.trials()) == N_TRIALS
        with pytest.raises(StoreError, match="cannot be written"):
            store.set_meta(note="x")
        with pytest.raises(StoreError, match="cannot be written"):
            store.finish(1, "failed")
    assert {p.name: p.read_bytes() for p in root.iterdir()} == before


def test_readonly_reader_sees_a_live_writer(tmp_path):
    root = build_run(tmp_path / "run")
    with RunStore.open(root) as writer, RunStore.open(root, readonly=True) as reader:
        assert reader.counts()["failed"] == 0
        writer.mark_running(4, None)
        writer.finish(4, "failed", message="boom")
        assert reader.counts()["failed"] == 1 and reader.get(4).message == "boom"


def test_space_copy_is_read_as_utf8_or_a_store_error(tmp_path):
    root = build_run(tmp_path / "run")
    with RunStore.open(root, readonly=True) as store:
        assert store.space_text() == "name: tiny\nfamily: regnet\n"
        store.space_path.write_bytes(b"name: \xff\xfe\n")
        with pytest.raises(StoreError, match=r"space copy is not UTF-8 text \(byte 6\)"):
            store.space_text()
        store.space_path.unlink()
        assert store.space_text(missing_ok=True) == ""
        with pytest.raises(StoreError, match="space copy is missing"):
            store.space_text()
        store.space_path.mkdir()
        with pytest.raises(StoreError, match="cannot read the run's space copy"):
            store.space_text()


def test_val_and_test_error_columns(tmp_path):
    root = build_run(tmp_path / "run", n=8)
    with RunStore.open(root, readonly=True) as store:
        df = store.dataframe()
        t = store.get(2)
    assert (t.val_error, t.test_error) == (49.0, pytest.approx(40.0 + 2 / 3))
    assert list(df["val_error"].head(4)) == [49.5, 49.0, 48.5, None] or (
        list(df["val_error"].head(3)) == [49.5, 49.0, 48.5] and df["val_error"].isna()[3])
    assert list(df["val_error"].fillna(-1)) == list(df["error"].fillna(-1))
    assert df["test_error"].iloc[0] == pytest.approx(40 + 1 / 3)
    assert df["test_error"].isna().tolist() == [False, False, False, True] * 2
