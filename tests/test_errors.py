"""The NasxError family: parts kept as fields, one composed line, relocation by a method."""

from __future__ import annotations

import ast
import inspect
import pickle
import re
from pathlib import Path

import pytest

import nasx
import nasx.errors as errors
from nasx.errors import NasxError, RuleError, SpaceError, TrainError, YamlLimitError, shorten

CLASSES = sorted(
    (c for c in vars(errors).values() if inspect.isclass(c) and issubclass(c, NasxError)),
    key=lambda c: c.__name__,
)


def test_registry_is_complete() -> None:
    names = {c.__name__ for c in CLASSES}
    assert names == {"NasxError", "SpaceError", "InvalidSample", "SamplingError", "StoreError",
                     "DataError", "TrainError", "ArchError", "AnalysisError", "RefineError",
                     "ExportError", "YamlLimitError", "NothingNarrowedError", "CudaFatalError",
                     "ScaleError", "RuleError"}


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_fields_are_kept(cls: type[NasxError]) -> None:
    err = cls("must be >= 1, got 0", where="s.yaml", key="params.depth", value=0,
              rule="must be >= 1")
    assert (err.message, err.where, err.key, err.value, err.rule) == (
        "must be >= 1, got 0", "s.yaml", "params.depth", 0, "must be >= 1")
    assert str(err) == "s.yaml: key 'params.depth': must be >= 1, got 0"


@pytest.mark.parametrize(("where", "key", "text"), [
    ("s.yaml", "params.depth", "s.yaml: key 'params.depth': bad"),
    ("command line", None, "command line: bad"),
    (None, "stem.width", "key 'stem.width': bad"),
    (None, None, "bad"),
    ("", "", "bad"),
])
def test_composition_is_todays_format(where: str | None, key: str | None, text: str) -> None:
    assert str(NasxError("bad", where=where, key=key)) == text


@pytest.mark.parametrize(("kwargs", "text"), [
    ({"rule": "must be >= 1", "value": 0}, "f: key 'k': must be >= 1, got 0"),
    ({"rule": "must be >= 1", "value": None}, "f: key 'k': must be >= 1, got None"),
    ({"rule": "must be a string", "value": "x'y"}, "f: key 'k': must be a string, got \"x'y\""),
    ({"rule": "is required"}, "f: key 'k': is required"),
])
def test_detail_from_rule_and_value(kwargs: dict[str, object], text: str) -> None:
    err = SpaceError(where="f", key="k", **kwargs)  # type: ignore[arg-type]
    assert str(err) == text
    assert err.detail == text.split(": ", 2)[2]


def test_shown_replaces_the_repr() -> None:
    err = SpaceError(rule="must be a mapping", value=[1], shown="list", where="f", key="k")
    assert str(err) == "f: key 'k': must be a mapping, got list" and err.value == [1]
    assert str(err.at(key="j")) == "f: key 'j': must be a mapping, got list"
    long = SpaceError(rule="r", value=0, shown="x" * 500)
    assert len(str(long)) < 100 and str(long).endswith("...")


def test_message_wins_over_rule_and_value() -> None:
    err = TrainError("must be in [1, 10000]; got 1000000000000", where="s.yaml", key="epochs",
                     value=10**12, rule="must be in [1, 10000]")
    assert str(err) == "s.yaml: key 'epochs': must be in [1, 10000]; got 1000000000000"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_relocation_returns_a_copy_of_the_same_class(cls: type[NasxError]) -> None:
    inner = cls("must be >= 1", key="depth", value=0, rule="r")
    moved = inner.at(where="space.yaml")
    assert type(moved) is cls
    assert str(moved) == "space.yaml: key 'depth': must be >= 1"
    assert (moved.message, moved.key, moved.value, moved.rule) == ("must be >= 1", "depth", 0, "r")
    assert str(inner) == "key 'depth': must be >= 1" and inner.where is None  # untouched
    assert str(moved.at(key="train.depth")) == "space.yaml: key 'train.depth': must be >= 1"
    assert str(moved.at(where=None, key=None)) == "must be >= 1"


def test_relocation_to_another_class() -> None:
    """A recipe's TrainError reported as the space file's SpaceError (cli/sample.py)."""
    err = TrainError("must be an integer; got '8'", where="s.yaml", key="epochs")
    moved = err.at(key="train.epochs", kind=SpaceError)
    assert type(moved) is SpaceError
    assert str(moved) == "s.yaml: key 'train.epochs': must be an integer; got '8'"
    with pytest.raises(SpaceError, match=r"^s\.yaml: key 'train\.epochs': must be"):
        raise moved from None


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize(("message", "where", "key"), [
    ("first line\nsecond line", "a.yaml", "k"),
    ("tabs\tand\r\ncarriage returns", "dir\nwith newline/s.yaml", "per\nstage"),
    ("\n\n", None, None),
])
def test_one_line_always(cls: type[NasxError], message: str, where: str | None,
                         key: str | None) -> None:
    text = str(cls(message, where=where, key=key))
    assert "\n" not in text and "\r" not in text and "\t" not in text
    assert text == " ".join(text.split())
    relocated = str(cls(message, key=key).at(where=where))
    assert relocated == text


def test_value_is_shortened() -> None:
    huge = list(range(10_000))
    err = SpaceError(where="s.yaml", key="k", rule="must be a number", value=huge)
    assert str(err) == f"s.yaml: key 'k': must be a number, got {shorten(huge)}"
    assert shorten(huge) == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11..."
    assert len(str(err)) < 100
    assert str(SpaceError(rule="too big", value=10**400)) == (
        "too big, got <an integer of about 401 digits>")
    assert str(SpaceError(rule="bad", value="\x1b[2J")) == "bad, got '\\x1b[2J'"


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_pickles_with_its_fields(cls: type[NasxError]) -> None:
    """Errors cross process boundaries (Ray workers) with their parts."""
    err = cls(where="data/cifar", key="data_dir", rule="no such folder", value="x")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls and str(back) == str(err)
    assert (back.where, back.key, back.rule, back.value) == ("data/cifar", "data_dir",
                                                             "no such folder", "x")


def test_yaml_error_is_still_a_value_error() -> None:
    assert issubclass(YamlLimitError, ValueError) and issubclass(YamlLimitError, NasxError)
    assert issubclass(RuleError, ValueError) and issubclass(RuleError, NasxError)


def test_old_import_paths() -> None:
    from nasx.refine import RefineError  # the package re-exports it
    from nasx.yamlio import YamlLimitError as FromYamlio
    from nasx.yamlio import clip
    from nasx.yamlio import shorten as yshorten

    assert RefineError is errors.RefineError and FromYamlio is YamlLimitError
    assert yshorten is shorten and clip is errors.clip


# Internal signals that never reach a user: an OSError subclass stays inside its layer, whose
# caller turns it into a NasxError (fsutil's InstallError: the final move of a new run folder).
_INTERNAL_BASES = {"OSError"}


def test_every_error_class_lives_in_errors_py() -> None:
    """No public exception class is declared outside nasx/errors.py."""
    root = Path(nasx.__file__).parent
    outside = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                bases = {ast.unparse(b).rsplit(".", 1)[-1] for b in node.bases}
                if bases & _INTERNAL_BASES:
                    continue
                if node.name.endswith("Error") or any(
                        b.endswith(("Error", "Exception")) for b in bases):
                    outside.append(f"{path.relative_to(root)}:{node.lineno} {node.name}")
    assert outside == []


# "got {x}" (or "got [{lo}, ...", "got 0x{code}") written into a message by hand: the value belongs
# in value= (shown= when its repr is not what the user wrote), the line is NasxError.detail's.
_HAND_MADE = re.compile(r"\bgot\s\S{0,3}\{\}")


def _template(node: ast.expr) -> str:
    """An f-string's text with ``{}`` for each formatted value ('' for anything else)."""
    if not isinstance(node, ast.JoinedStr):
        return ""
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def test_no_raise_site_formats_the_value_into_the_message() -> None:
    """Every NasxError built in nasx/ gives rule= and value=, never f"<rule>, got {value}"."""
    root = Path(nasx.__file__).parent
    family = {c.__name__ for c in CLASSES}
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call)
                    and ast.unparse(node.func).rsplit(".", 1)[-1] in family):
                continue
            texts = node.args[:1] + [k.value for k in node.keywords if k.arg == "message"]
            if any(_HAND_MADE.search(_template(t)) for t in texts):
                found.append(f"{path.relative_to(root)}:{node.lineno}")
    assert found == []


def test_the_scan_sees_a_hand_made_value() -> None:
    bad = ast.parse('raise SpaceError(f"must be >= 1, got {n}", key="n")').body[0]
    assert isinstance(bad, ast.Raise) and isinstance(bad.exc, ast.Call)
    assert _HAND_MADE.search(_template(bad.exc.args[0]))


def test_a_sampler_error_carries_rule_and_value() -> None:
    import numpy as np

    from nasx.errors import SamplingError
    from nasx.sample.sampler import sample_space
    from nasx.space import load_space
    from nasx.space.shipped import resolve_space

    space = load_space(resolve_space("regnet_digits"))
    with pytest.raises(SamplingError) as err:
        sample_space(space, 0, np.random.default_rng(0))
    assert (err.value.key, err.value.rule, err.value.value) == ("n", "must be in [1, 100000]", 0)
    assert str(err.value) == "key 'n': must be in [1, 100000], got 0"


@pytest.mark.parametrize(("text", "key", "rule", "value", "line"), [
    ("params:\n  depth: {int: [4, 2]}\n", "params.depth", "needs lo <= hi", [4, 2],
     "needs lo <= hi, got [4, 2]"),
    ("params:\n  wa: {float: [8.0, 2.5]}\n", "params.wa", "needs lo <= hi", [8.0, 2.5],
     "needs lo <= hi, got [8, 2.5]"),
    ("n: 0\n", "n", "input should be greater than or equal to 1", 0,
     "input should be greater than or equal to 1, got 0"),
    ("constraints: {flops: [1M, fast]}\n", "constraints.flops",
     "a bound must be a number, null or a K/M/G quantity", "fast",
     "a bound must be a number, null or a K/M/G quantity, got 'fast'"),
    ("relations: {depth: upward}\n", "relations.depth", None, "upward", "got 'upward'"),
])
def test_a_space_error_carries_rule_and_value(text: str, key: str, rule: str | None,
                                              value: object, line: str) -> None:
    """A bad value in a space file, caught by a field check, a rule or a parser alike."""
    from nasx.space import parse_space

    with pytest.raises(SpaceError) as err:
        parse_space(f"name: s\nfamily: regnet\n{text}", "s.yaml")
    assert (err.value.where, err.value.key, err.value.value) == ("s.yaml", key, value)
    assert rule is None or err.value.rule == rule
    assert str(err.value).startswith(f"s.yaml: key '{key}': ") and str(err.value).endswith(line)


def test_a_recipe_error_carries_rule_and_value() -> None:
    from nasx.train.recipe import Recipe, resolve_recipe

    with pytest.raises(TrainError) as err:
        resolve_recipe({"epochs": "8"}, None, None, source="s.yaml")
    assert (err.value.rule, err.value.value) == ("must be an integer", "8")
    assert str(err.value) == "s.yaml: key 'epochs': must be an integer, got '8'"
    with pytest.raises(TrainError) as err:
        Recipe(epochs=0).validate("command line")
    assert (err.value.key, err.value.rule, err.value.value) == (
        "epochs", "must be in [1, 10000]", 0)
