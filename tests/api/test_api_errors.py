"""A library caller gets the CLI's error for the same bad input: the same NasxError subclass,
whose message is the CLI's one line (a test per verb)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from nasx import api
from nasx.cli.main import main
from nasx.errors import NasxError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "analysis"))

from synth_runs import make_run  # noqa: E402

BAD_SPACE = "name: bad\nfamily: regnet\nn: 4\nparams:\n  depth: {int: [4, 2]}\n"


def _cases(tmp: Path) -> list[tuple[str, list[str], object]]:
    """(verb, CLI arguments, the API call) with the same bad input."""
    space = tmp / "bad.yaml"
    space.write_text(BAD_SPACE, encoding="utf-8")
    run = make_run(tmp / "r", "r", n=8, seed=1)
    missing = str(tmp / "no_such_run")
    return [
        ("sample", ["sample", str(space), "--out", str(tmp / "o1")],
         lambda: api.sample(space, out=tmp / "o1")),
        ("sample", ["sample", "regnet_digits", "--n", "0", "--out", str(tmp / "o2")],
         lambda: api.sample("regnet_digits", n=0, out=tmp / "o2")),
        ("run", ["run", "regnet_digits", "--epochs", "0", "--out", str(tmp / "o3"),
                 "--executor", "inline"],
         lambda: api.run("regnet_digits", out=tmp / "o3", epochs=0)),
        ("train", ["train", missing, "--executor", "inline"],
         lambda: api.train(missing)),
        ("report", ["report", str(run), "--bins", "0", "--out", str(tmp / "rep")],
         lambda: api.report(run, out=tmp / "rep", bins=0)),
        ("report", ["report", str(run), missing], lambda: api.compare(run, missing)),
        ("export", ["export", str(run), "--trial", "1", "--objective", "pareto", "--out",
                    str(tmp / "x")],
         lambda: api.export(run, tmp / "x", trial=1, objective="pareto")),
        ("narrow", ["narrow", missing, "--out", str(tmp / "n.yaml")],
         lambda: api.narrow(missing, tmp / "n.yaml")),
        ("refine", ["refine", str(run), "--trials", "0", "--executor", "inline"],
         lambda: api.refine(run, 0)),
        ("describe", ["describe", str(space)], lambda: api.load_space(space)),
    ]


@pytest.mark.parametrize("i", range(10))
def test_the_api_raises_what_the_cli_prints(tmp_path, capsys, i):
    verb, argv, call = _cases(tmp_path)[i]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"nasx {verb}: error: ") and err.count("\n") == 1, err
    with pytest.raises(NasxError) as info:
        call()  # type: ignore[operator]
    assert err.strip() == f"nasx {verb}: error: {info.value}"


def test_nasx_run_parses_its_space_file_once(tmp_path, monkeypatch, capsys):
    import nasx.space.schema as schema

    calls: list[str] = []
    parse = schema.parse_space

    def counting(text: str, path: object) -> object:
        calls.append(str(path))
        return parse(text, path)

    monkeypatch.setattr(schema, "parse_space", counting)
    argv = ["run", "regnet_digits", "--n", "2", "--epochs", "1", "--executor", "inline",
            "--out", str(tmp_path / "r"), "--no-progress"]
    assert main(argv) == 0
    assert len(calls) == 1, calls
    calls.clear()
    assert main(argv) == 0  # resumed: the run's copy is not parsed again either
    assert len(calls) == 1, calls


def test_nasx_run_resolves_each_recipe_once(tmp_path, monkeypatch):
    """The space's check, the device check, the population's recipe and every trial's job read
    one resolution of (train block, hparams, overrides): the space's memo keeps it."""
    import nasx.train.recipe as recipe_mod

    calls: list[tuple[object, object]] = []
    resolve = recipe_mod.resolve_recipe

    def counting(block: object, hparams: object, overrides: object, **kw: object) -> object:
        calls.append((dict(hparams or {}), dict(overrides or {})))  # type: ignore[call-overload]
        return resolve(block, hparams, overrides, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(recipe_mod, "resolve_recipe", counting)
    argv = ["run", "regnet_digits", "--n", "3", "--epochs", "1", "--executor", "inline",
            "--out", str(tmp_path / "r"), "--no-progress"]
    assert main(argv) == 0
    assert len(calls) == len({repr(c) for c in calls}) == 1, calls


@pytest.mark.parametrize("overrides", [{"epochs": [1]}, {"epochs": {"a": 1}}, {1: 2, "x": 3}])
def test_odd_overrides_get_the_recipe_error(tmp_path, overrides):
    """A value no YAML or flag would give (a list, a mapping, a non-str key) is the recipe's
    one-line error, not a TypeError from the resolved-recipe memo."""
    from nasx import api

    with pytest.raises(NasxError):
        api.sample("regnet_digits", n=2, out=tmp_path / "r", overrides=overrides)
    assert not (tmp_path / "r").exists()
