"""Every data set is one module (docs/internals.md, "How to add a data set"), and one is enough.

The contract is checked over every registered set: a name in the CLI help, a pixel scaling for
export provenance, an image count (or a rule for one) for GPU packing, its channels. Then a new
set written as ONE module file is registered and used end to end: a tiny inline run, an export
whose provenance records its scaling, and packing's memory estimate counting its images.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from nasx.cli.main import build_parser
from nasx.data import sets
from nasx.data.sets.entry import DataSetEntry
from nasx.execute.packing import FLOAT_BYTES, LABEL_BYTES, dataset_bytes
from nasx.train.recipe import Recipe

SET_FILES = sorted(p.stem for p in (Path(sets.__file__).parent).glob("*.py")
                   if p.stem not in ("__init__", "entry", "arrays"))


def _help_text(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """``nasx ARGV --help`` as one line of words."""
    with pytest.raises(SystemExit):
        build_parser(argv[0]).parse_args([*argv, "--help"])
    return " ".join(capsys.readouterr().out.split())


def test_one_module_per_shipped_set_and_each_is_listed() -> None:
    """The registry's list is the modules of nasx/data/sets/, one ENTRY each, same names."""
    assert sorted(e.name for e in sets.BUILTIN) == SET_FILES
    for name in SET_FILES:
        module = importlib.import_module(f"nasx.data.sets.{name}")
        assert module.ENTRY is sets.get(name)


@pytest.mark.parametrize("name", sets.names())
def test_every_data_set_keeps_the_contract(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    entry = sets.get(name)
    assert isinstance(entry, DataSetEntry) and entry.name == name and entry.help
    for argv in (("data", "prepare"), ("train",)):
        assert re.search(rf"(^|\s){re.escape(name)}(\s|$)", _help_text(capsys, *argv)), argv
    assert entry.scale > 0 and entry.scale_text  # what export provenance records
    assert entry.channels and set(entry.channels) <= {1, 3}
    count = entry.image_count(Recipe(data=name))
    assert count is None or count > 0  # None: counted when read (folder listings, npz files)
    if count is not None:
        assert dataset_bytes(Recipe(data=name), 8, 1) == count * (64 * FLOAT_BYTES + LABEL_BYTES)
    assert set(entry.key_fields) <= Recipe.field_names()
    Recipe(data=name).validate()


# --- a data set added in one module ------------------------------------------------------------

TOY_MODULE = '''
"""``toy``: 130 seeded 8x8 grey images of 10 classes, values 0..4 (a test's one module)."""

import numpy as np

from nasx.data.sets.arrays import open_arrays
from nasx.data.sets.entry import DataSetEntry, Found

COUNTS = {"train": 100, "test": 30}


def _describe(wanted):
    return Found("toy", "toy 1", "toy 1", wanted.size or 8, tuple("abcdefghij"), dict(COUNTS))


def _open(spec):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in COUNTS.items():
        y = np.arange(n) % 10
        x = rng.integers(0, 2, (n, 1, 8, 8)).astype(np.uint8)
        x[np.arange(n), 0, y % 8, y // 8] = 4  # one bright pixel says the class
        arrays[split] = (x, y.astype(np.int64))
    return open_arrays(spec, arrays)


ENTRY = DataSetEntry(
    name="toy", help="a tiny seeded test set", describe=_describe, open=_open, scale=4.0,
    scale_text="toy: values 0..4 divided by 4", channels=(1,), images=130, flip=False,
    crop=False,
)
'''


def _load_module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("nasx_test_toy_set", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def toy(tmp_path: Path) -> Iterator[DataSetEntry]:
    path = tmp_path / "toy_set.py"
    path.write_text(TOY_MODULE, encoding="utf-8")
    with sets.registered(_load_module(path).ENTRY) as entry:
        yield entry
    assert "toy" not in sets.names()


def test_a_set_in_one_module_is_usable_in_run_export_and_packing(
    toy: DataSetEntry, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    from nasx import api

    assert "toy" in _help_text(capsys, "train").split()
    run = api.sample("regnet_digits", n=2, seed=0, out=tmp_path / "run")
    counts = api.train(run, executor="inline", epochs=1, data="toy", progress=False)
    assert counts["done"] == 2
    out = api.export(run, tmp_path / "chosen", best=True, formats="yaml")
    prep = json.loads((out / "provenance.json").read_text())["input"]["preprocessing"]
    assert prep["data"] == "toy"
    assert prep["scale_to_unit"] == "toy: values 0..4 divided by 4"
    assert prep["mean"] is not None and prep["std"] is not None
    assert 0 < prep["mean"][0] < 1  # measured on pixels divided by the entry's scale
    recipe = Recipe(data="toy")
    assert dataset_bytes(recipe, 8, 1) == 130 * (64 * FLOAT_BYTES + LABEL_BYTES)
    assert dataset_bytes(recipe, 16, 3) == 130 * (3 * 256 * FLOAT_BYTES + LABEL_BYTES)
