"""Bounded input: the safe YAML loader and the limits of a space file (counts, magnitudes, sizes).

Every case is one short line naming the file and, where there is one, the key; none may take
more than a moment or more than a little memory (the fuzz test in tests/cli runs them under a
memory limit).
"""

from __future__ import annotations

import math

import pytest

from nasx.errors import SpaceError
from nasx.space import load_space, parse_quantity, parse_space
from nasx.yamlio import MAX_BYTES, MAX_DEPTH, MAX_NODES, YamlLimitError, load_yaml, shorten

BASE = "family: regnet\nparams:\n  depth: {int: [2, 8]}\n"
BOMB = "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9 if p else ['lol'] * 9)}]\n"
    for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


@pytest.mark.parametrize(("text", "rule"), [
    ("a: &x 1\nb: *x\n", "YAML aliases (*name) are not allowed; write the value out at line 2"),
    (BOMB, "YAML aliases (*name) are not allowed"),
    ("a: &l [*l]\n", "YAML aliases (*name) are not allowed"),
    ("a: " + "[" * 2000 + "]" * 2000, f"nested deeper than {MAX_DEPTH} levels"),
    ("a: " + "{b: " * 2000 + "1" + "}" * 2000, f"nested deeper than {MAX_DEPTH} levels"),
    ("a: [" + "1," * (MAX_NODES + 1) + "]", f"more than {MAX_NODES} YAML nodes"),
    ("a: .inf", "numbers must be finite, got '.inf' at line 1, column 4"),
    ("a: -.Inf", "numbers must be finite"),
    ("a: .nan", "numbers must be finite"),
    ("a: 1.0e+400", "numbers must be finite, got '1.0e+400'"),
    ("a: " + "9" * 5000, "Exceeds the limit (4300 digits)"),
    ("a: \x0b", "holds a character YAML does not allow (U+000B"),
    ("a: 1\x00", "holds a NUL character"),
    ("a: !!python/object:os.system 1", "could not determine a constructor"),
    ("a: [1", "malformed YAML at line 1, column 6"),
    ("#" * (MAX_BYTES + 1), "larger than 1024 KiB"),
])
def test_the_loader_refuses_in_one_short_line(text, rule):
    with pytest.raises(YamlLimitError) as err:
        load_yaml(text)
    assert rule in str(err.value)
    assert "\n" not in str(err.value) and len(str(err.value)) < 200


def test_the_loader_reads_ordinary_yaml():
    assert load_yaml("\ufeffa: [1, 2.5, x, null, true]\nb: {c: 1.0e+3}\n") == {
        "a": [1, 2.5, "x", None, True], "b": {"c": 1000.0}}
    assert load_yaml("a: " + "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2))["a"] is not None


def test_shorten_never_floods():
    assert shorten(10**5000) == "<an integer of about 5001 digits>"
    assert shorten("x" * 1000) == "'" + "x" * 36 + "..."
    assert shorten("a\x1b[2Jb") == "'a\\x1b[2Jb'"


@pytest.mark.parametrize(("extra", "key", "rule"), [
    ("stages: 100000\n", "stages", "less than or equal to 32"),
    (f"stages: {10**20}\n", "stages", "less than or equal to 32, got 100000000000000000000"),
    ("n: 1000000000\n", "n", "less than or equal to 100000"),
    (f"seed: {2**64}\n", "seed", "less than or equal to 9223372036854775807"),
    ("name: " + "a" * 500 + "\n", "name", "must be at most 100 letters"),
    ("description: '" + "x" * 20000 + "'\n", "description", "at most 10000 characters"),
    ("constraints: {flops: [null, 1e400]}\n", "constraints.flops",
     "a bound must be finite and within +-1e+18, got '1e400'"),
    ("constraints: {flops: [null, 1e300G]}\n", "constraints.flops", "within +-1e+18"),
    (f"constraints: {{flops: [null, {10**30}]}}\n", "constraints.flops", "within +-1e+18"),
    ("constraints: {flops: [null, '" + "9" * 3000 + "']}\n", "constraints.flops",
     "a bound must be a number, null or a K/M/G quantity, got '99999"),
    ("input: {resolution: 1000000000000000000}\n", "input.resolution",
     "a number must be finite and within +-1e+15"),
    ("input: {resolution: 1.0e+308}\n", "input.resolution", "within +-1e+15, got 1e+308"),
    ("train: {lr: {float: [-1.0e+308, 1.0e+308]}}\n", "train.lr", "within +-1e+15"),
    ("train: {lr: {float: [1, 1" + "0" * 400 + "]}}\n", "train.lr.float.1",
     "numbers must be within +-1e+15, got <an integer of about 401 digits>"),
    ("train: {lr: {float: [1, 2], q: 1.0e-300}}\n", "train.lr", "q=1e-300 is too fine"),
    (f"train: {{x: {{int: [1, {10**20}]}}}}\n", "train.x", "within +-1e+15"),
    (f"train: {{x: {{int: [0, 0], q: {10**20}}}}}\n", "train.x", "within +-1e+15"),
    (f"train: {{x: {{pow2: [1, {2**60}]}}}}\n", "train.x", "bounds must be 2**-50 to 2**49"),
    ("train: {x: {pow2: [1.0e-300, 1]}}\n", "train.x", "bounds must be powers of two"),
    ("train: {x: {choice: [" + ", ".join(["1"] * 300) + "]}}\n", "train.x.choice",
     "at most 256 items"),
    ("train: {x: {choice: [1, 10000000000000000]}}\n", "train.x", "within +-1e+15"),
    ("train: {x: '" + "y" * 2000 + "'}\n", "train.x", "at most 1000 characters, got 2000"),
    ("train: {" + ", ".join(f"k{i}: 1" for i in range(300)) + "}\n", "train",
     "at most 256 entries, got 300"),
    ("train: {" + "k" * 100 + ": 1}\n", "train",
     "keys must be identifiers of at most 64 letters, digits or '_', got 'kkkkk"),
    ("train: {1: 1}\n", "train", "keys must be identifiers"),
])
def test_limits_of_a_space_file(tmp_path, extra, key, rule):
    with pytest.raises(SpaceError) as err:
        parse_space(BASE + extra, tmp_path / "s.yaml")
    msg = str(err.value)
    assert f"s.yaml: key '{key}': " in msg and rule in msg, msg
    assert "\n" not in msg and len(msg) < 300


@pytest.mark.parametrize(("data", "rule"), [
    (b"family: regnet\n\x00", "holds a NUL byte"),
    ("family: r\u00e9gnet\n".encode("latin-1"), "not UTF-8 text (byte 9)"),
    ("\ufefffamily: regnet\n".encode("utf-16"), "not UTF-8 text (byte 0)"),
    (b"#" * (MAX_BYTES + 10), "file is larger than 1024 KiB"),
])
def test_bad_bytes_are_refused(tmp_path, data, rule):
    f = tmp_path / "s.yaml"
    f.write_bytes(data)
    with pytest.raises(SpaceError) as err:
        load_space(f)
    assert str(err.value) == f"{f}: {rule}" or str(err.value).startswith(f"{f}: {rule}")


def test_a_utf8_bom_is_skipped(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_bytes("\ufeff".encode() + BASE.encode())
    assert load_space(f).family == "regnet"


def test_a_folder_is_not_a_space(tmp_path):
    with pytest.raises(SpaceError, match="is a folder, not a space file"):
        load_space(tmp_path)


@pytest.mark.parametrize(("raw", "value"), [
    ("1e18", 10**18), ("1000000G", 10**15), (1e18, 10**18), ("0.4G", 400_000_000),
])
def test_largest_bounds_still_parse(raw, value):
    assert parse_quantity(raw) == value


@pytest.mark.parametrize("raw", ["1.1e18", "1e400", 2e18, 10**19, "-1e19", math.inf])
def test_bounds_beyond_the_limit(raw):
    with pytest.raises(ValueError, match="finite"):
        parse_quantity(raw)
