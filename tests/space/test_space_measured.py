"""Measured constraints (latency_ms, memory_mb) and the measure: block in a space file."""

from __future__ import annotations

import pytest

from nasx.errors import SpaceError
from nasx.space import MEASURED_KEYS, MeasureSettings, load_space, parse_space
from nasx.space.shipped import shipped_names

HEAD = "family: regnet\n"


def _parse(body: str, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + body)
    return parse_space(path.read_text(), path)


def test_measured_constraints_are_kept_apart_in_file_order(tmp_path):
    space = _parse("constraints:\n  memory_mb: [null, 2.5]\n  flops: [null, 1M]\n"
                   "  latency_ms: [0.1, 5]\n", tmp_path)
    assert space.constraints == {"flops": (None, 1_000_000)}
    assert space.measured == {"memory_mb": (None, 2.5), "latency_ms": (0.1, 5)}
    assert list(space.measured) == ["memory_mb", "latency_ms"]
    assert space.measure == MeasureSettings()  # the defaults when there is no measure: block
    assert MEASURED_KEYS == ("latency_ms", "memory_mb")


def test_measure_block_and_its_defaults(tmp_path):
    space = _parse("constraints: {latency_ms: [null, 2]}\n"
                   "measure: {backend: onnx, batch: 8, threads: 2, repeats: 5, warmup: 0}\n",
                   tmp_path)
    assert space.measure.to_dict() == {"backend": "onnx", "device": "cpu", "batch": 8,
                                          "threads": 2, "repeats": 5, "warmup": 0}
    assert space.measure.describe() == ("onnx on cpu, batch 8, 2 threads, median of 5 runs "
                                        "after 0 warm-up")
    assert MeasureSettings().describe() == ("torch on cpu, batch 1, 1 thread, median of 20 runs "
                                            "after 5 warm-up")


@pytest.mark.parametrize(("body", "key", "rule"), [
    ("constraints: {latency_ms: [null, -1]}", "constraints.latency_ms",
     "a measured bound must be >= 0 (ms), got -1"),
    ("constraints: {memory_mb: [-2, null]}", "constraints.memory_mb",
     "a measured bound must be >= 0 (MiB), got -2"),
    ("constraints: {latency_ms: [null, null]}", "constraints.latency_ms",
     "a measured constraint needs lo or hi"),
    ("constraints: {latency_ms: [null, fast]}", "constraints.latency_ms",
     "a bound must be a number, null or a K/M/G quantity, got 'fast'"),
    ("constraints: {latency_ms: [5, 2]}", "constraints.latency_ms", "needs lo <= hi, got [5, 2]"),
    ("constraints: {latency_ms: 3}", "constraints.latency_ms",
     "a constraint must be a list [lo, hi], got 3"),
    ("measure: {backend: tensorrt}", "measure.backend", "'torch' or 'onnx', got 'tensorrt'"),
    ("measure: {device: gpu}", "measure.device", "must be cpu, cuda or cuda:N, got 'gpu'"),
    ("measure: {backend: onnx, device: cuda}", "measure.device",
     "backend onnx runs on the cpu only, got 'cuda'"),
    ("measure: {batch: 0}", "measure.batch", "greater than or equal to 1, got 0"),
    ("measure: {repeats: '20'}", "measure.repeats", "valid integer, got '20'"),
    ("measure: {warmup: -1}", "measure.warmup", "greater than or equal to 0, got -1"),
    ("measure: {threads: 1000}", "measure.threads", "less than or equal to 256, got 1000"),
    ("measure: {runs: 3}", "measure.runs", "extra inputs are not permitted, got 3"),
    ("measure: [1]", "measure", "valid dictionary"),
])
def test_bad_measured_values_are_one_line_errors(tmp_path, body, key, rule):
    with pytest.raises(SpaceError) as err:
        _parse(body + "\n", tmp_path)
    text = str(err.value)
    assert "\n" not in text
    assert text.startswith(f"{tmp_path / 's.yaml'}: key '{key}': ")
    assert rule in text


@pytest.mark.parametrize("name", shipped_names())
def test_shipped_spaces_have_no_measured_constraints(name):
    space = load_space(name)
    assert space.measured == {}
    assert not set(space.constraints) & set(MEASURED_KEYS)


def test_describe_mentions_measured_constraints(tmp_path, capsys):
    from nasx.cli.main import main

    path = tmp_path / "m.yaml"
    path.write_text("family: regnet\nparams: {depth: 4, w0: 24, wa: 10.0, wm: 2.0, group_w: 8}\n"
                    "constraints: {flops: [null, 1M], latency_ms: [null, 2.5]}\n"
                    "measure: {batch: 4}\n")
    assert main(["describe", str(path)]) == 0
    out = capsys.readouterr().out
    assert "  constraint flops: [-inf, 1M]\n" in out
    assert ("  measured constraint latency_ms: [-inf, 2.5] (torch on cpu, batch 4, 1 thread, "
            "median of 20 runs after 5 warm-up;") in out
    assert main(["describe", str(path), "--json"]) == 0
    import json

    d = json.loads(capsys.readouterr().out)
    assert d["constraints"] == {"flops": [None, 1_000_000]}
    assert d["measured"] == {"latency_ms": [None, 2.5]} and d["measure"]["batch"] == 4
