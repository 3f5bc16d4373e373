"""Hostile space files: `nasx sample` and `nasx describe` end in exit 0 or one line and exit 2.

A fixed-seed generator writes a few hundred files (aliases and alias bombs, huge counts, deep
nesting, huge and non-finite numbers, bad encodings, wrong types, random mutations of the shipped
spaces). Two worker processes (address space limited to 500 MB, OpenBLAS on one thread) run both
verbs in-process on each file under a 10 s alarm and report what happened; the test then checks
that every command ended in exit 0 or one short line and exit 2 with no traceback, that a failed
sample wrote nothing, and that describe rejects what sample rejects (and vice versa) for every
reason that is the file's: only "found only k of n" (an infeasible space) may differ.
"""

from __future__ import annotations

import copy
import json
import os
import random
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "nasx" / "spaces").glob("*.yaml"))
MEMORY = 500 * 2**20
TIMEOUT_S = 10
SEED = 20261129

BASE = """family: regnet
n: 4
input: {resolution: 8, in_channels: 1, num_classes: 10}
params:
  depth: {int: [2, 8]}
  w0: {int: [8, 32], q: 8}
  wa: {float: [4, 32], log: true}
  wm: {float: [1.5, 3.0], log: true}
  group_w: {pow2: [1, 8]}
  stem: cifar
constraints:
  flops: [null, 1.5M]
"""

# 390 bytes that expand to 9**9 strings when anything walks them (here: lineage).
BOMB = "lols:\n" + "".join(
    f"  {c}: &{c} [{', '.join([f'*{p}'] * 9 if p else ['lol'] * 9)}]\n"
    for p, c in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)


def _with(line: str) -> str:
    """BASE with one top-level entry replaced or added."""
    key = line.split(":", 1)[0]
    kept = [b for b in BASE.splitlines() if not b.startswith(f"{key}:")]
    return "\n".join(kept) + "\n" + line + "\n"


def _param(value: str) -> str:
    return BASE.replace("  depth: {int: [2, 8]}", f"  depth: {value}")


def _handmade() -> dict[str, bytes | str]:
    """Named hostile files, one per family of inputs the issue lists (and their relatives)."""
    big = 10**20
    files: dict[str, bytes | str] = {
        "ok_base": BASE,
        "alias": BASE + "seed: &s 3\nn: *s\n",
        "alias_merge": "base: &b {family: regnet}\n<<: *b\n",
        "alias_recursive": BASE + "lineage: &l {x: [*l]}\n",
        "alias_bomb": BASE.replace("n: 4\n", "") + "lineage:\n" + BOMB.replace("\n", "\n  ")
        + "\n",
        "alias_bomb_top": BOMB + "family: regnet\n",
        "deep_lists": BASE + "lineage: " + "[" * 2000 + "]" * 2000 + "\n",
        "deep_maps": BASE + "lineage: " + "{a: " * 2000 + "1" + "}" * 2000 + "\n",
        "deep_block": BASE + "lineage:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 300)),
        "deep_20": BASE + "lineage: {x: " + "[" * 20 + "]" * 20 + "}\n",
        "too_many_nodes": BASE + "lineage: [" + "1," * 30000 + "]\n",
        "too_large": BASE + "description: '" + "x" * (1 << 20) + "'\n",
        "long_description": BASE + "description: '" + "x" * 5000 + "'\n",
        "stages_1e5": _with("stages: 100000") + "per_stage: {depth: 1}\n",
        "stages_1e9": _with("stages: 1000000000"),
        "stages_1e20": _with(f"stages: {big}"),
        "n_1e9": _with("n: 1000000000"),
        "n_1e20": _with(f"n: {big}"),
        "n_zero": _with("n: 0"),
        "n_float": _with("n: 1.5"),
        "n_str": _with("n: '10'"),
        "seed_2e64": _with(f"seed: {2**64}"),
        "seed_neg": _with("seed: -1"),
        "depth_1e9": _param("1000000000"),
        "depth_1e20": _param(str(big)),
        "depth_1e400": _param("1" + "0" * 400),
        "depth_digits": _param("9" * 5000),
        "depth_range_1e20": _param(f"{{int: [1, {big}]}}"),
        "depth_range_1e20_float": _param("{int: [1, 1e20]}"),
        "depth_range_1e15": _param("{int: [1, 1000000000000000]}"),
        "depth_1001": _param("1001"),
        "depth_q_huge": _param(f"{{int: [0, 0], q: {big}}}"),
        "wa_float_1e308": BASE.replace("{float: [4, 32], log: true}",
                                       "{float: [-1.0e+308, 1.0e+308]}"),
        "wa_float_1e400": BASE.replace("{float: [4, 32], log: true}", "{float: [1, 1.0e+400]}"),
        "wa_float_int_1e400": BASE.replace("{float: [4, 32], log: true}",
                                           "{float: [1, 1" + "0" * 400 + "]}"),
        "wa_q_tiny": BASE.replace("{float: [4, 32], log: true}",
                                  "{float: [4, 32], q: 1.0e-300}"),
        "wa_inf": BASE.replace("{float: [4, 32], log: true}", ".inf"),
        "wa_nan": BASE.replace("{float: [4, 32], log: true}", ".nan"),
        "wa_neg_inf_bound": BASE.replace("{float: [4, 32], log: true}", "{float: [-.inf, 1.0]}"),
        "pow2_2e1000": BASE.replace("{pow2: [1, 8]}", f"{{pow2: [1, {2**1000}]}}"),
        "pow2_2e60": BASE.replace("{pow2: [1, 8]}", f"{{pow2: [1, {2**60}]}}"),
        "pow2_tiny": BASE.replace("{pow2: [1, 8]}", "{pow2: [1.0e-300, 8]}"),
        "choice_10000": BASE.replace("{pow2: [1, 8]}",
                                     "{choice: [" + ", ".join(["8"] * 10000) + "]}"),
        "choice_200_strings": BASE.replace("stem: cifar", "stem: {choice: ["
                                           + ", ".join(f"s{i}" for i in range(200)) + "]}"),
        "choice_rare_bad_type": BASE.replace("stem: cifar", "stem: {choice: [cifar, cifar, "
                                             "cifar, cifar, cifar, cifar, cifar, 7]}"),
        "choice_nested": BASE.replace("{pow2: [1, 8]}", "{choice: [[1, 2], {a: 1}]}"),
        "choice_huge_int": BASE.replace("{pow2: [1, 8]}", f"{{choice: [8, {big}]}}"),
        "resolution_1e308": BASE.replace("resolution: 8", "resolution: 1.0e+308"),
        "resolution_1e9": BASE.replace("resolution: 8", "resolution: 1000000000"),
        "resolution_range": BASE.replace("resolution: 8", "resolution: {int: [8, 100000]}"),
        "num_classes_1e15": BASE.replace("num_classes: 10", "num_classes: 1000000000000000"),
        "w0_1e15": BASE.replace("{int: [8, 32], q: 8}", "1000000000000000"),
        "constraint_1e400": BASE.replace("[null, 1.5M]", "[null, 1e400]"),
        "constraint_1e400_float": BASE.replace("[null, 1.5M]", "[null, 1.0e+400]"),
        "constraint_1e30": BASE.replace("[null, 1.5M]", f"[null, {10**30}]"),
        "constraint_1e300G": BASE.replace("[null, 1.5M]", "[null, 1e300G]"),
        "constraint_long_str": BASE.replace("[null, 1.5M]", "[null, '" + "9" * 3000 + "']"),
        "constraint_inf": BASE.replace("[null, 1.5M]", "[null, .inf]"),
        "constraint_nan": BASE.replace("[null, 1.5M]", "[.nan, 1]"),
        "constraint_unknown_key": BASE + "  latency: [0, 1]\n",
        "constraint_not_list": BASE.replace("[null, 1.5M]", "5"),
        "constraint_three": BASE.replace("[null, 1.5M]", "[1, 2, 3]"),
        "constraints_1000": BASE + "".join(f"  k{i}: [0, 1]\n" for i in range(1000)),
        "params_300": BASE.replace("params:\n", "params:\n" + "".join(
            f"  p{i}: 1\n" for i in range(300))),
        "key_long": BASE.replace("  stem: cifar", "  " + "k" * 5000 + ": 1"),
        "key_int": BASE.replace("  stem: cifar", "  1: 2"),
        "key_list": BASE.replace("  stem: cifar", "  ? [a, b]\n  : 2"),
        "key_control": BASE.replace("  stem: cifar", '  "a\\x1b[31mb": 1'),
        "name_long": _with("name: " + "a" * 5000),
        "name_slash": _with("name: ../../etc"),
        "name_control": _with('name: "a\\x1bb"'),
        "family_int": _with("family: 5"),
        "family_list": _with("family: [regnet]"),
        "family_unknown": _with("family: " + "z" * 3000),
        "params_list": BASE.replace("params:\n", "params: [1, 2]\nx:\n"),
        "top_list": "[1, 2, 3]\n",
        "top_scalar": "regnet\n",
        "top_null": "",
        "whitespace": "   \n\n  \n",
        "multi_doc": BASE + "---\n" + BASE,
        "python_tag": BASE + "lineage: !!python/object/apply:os.system [echo hi]\n",
        "binary_tag": BASE + "lineage: !!binary aGVsbG8=\n",
        "set_tag": BASE + "lineage: !!set {a, b}\n",
        "timestamp": _with("seed: 2001-12-14"),
        "relation_unknown": BASE + "relations: {depth: sideways}\n",
        "relation_int": BASE + "relations: {depth: 5}\n",
        "stem_int": BASE.replace("stem: cifar", "stem: 5"),
        "train_epochs_str": BASE + "train: {epochs: '8'}\n",
        "train_epochs_1e12": BASE + "train: {epochs: 1e12}\n",
        "train_epochs_1e12_float": BASE + "train: {epochs: 1.0e+12}\n",
        "train_wd_inf": BASE + "train: {weight_decay: .inf}\n",
        "train_lr_nan": BASE + "train: {lr: .nan}\n",
        "train_threads_1e9": BASE + "train: {threads: 1000000000}\n",
        "train_unknown": BASE + "train: {epochz: 3}\n",
        "train_lr_range_neg": BASE + "train: {lr: {float: [-1.0, 0.1]}}\n",
        "train_list": BASE + "train: [1]\n",
        "train_synthetic_huge": BASE + "train: {synthetic_train: 1000000000000}\n",
        "train_device_bad": BASE + "train: {device: gpu}\n",
        "per_stage_no_stages": BASE + "per_stage: {depth: 1}\n",
        "per_stage_list_long": "family: anynet\nstages: 2\nper_stage:\n  depth: ["
        + ", ".join(["1"] * 100000) + "]\n",
        "anynet_depth_1e9": "family: anynet\nstages: 4\nper_stage:\n  depth: 1000000000\n"
        "  width: 64\n  group_w: 8\n  bot_mul: 1.0\n",
        "anynet_width_1e15": "family: anynet\nstages: 4\nper_stage:\n  depth: 2\n"
        "  width: 1000000000000000\n  group_w: 8\n  bot_mul: 1.0\n",
        "effnet_phi_huge": "family: efficientnet\nparams: {phi: 1000000000000000}\n",
        "effnet_alpha_phi": "family: efficientnet\nparams: {phi: 100, alpha: 1000000000000}\n",
        "effnet_depth_mult": "family: efficientnet\nparams: {depth_mult: 1000000000000000, "
        "width_mult: 1.0}\n",
        "mbv2_width_mult": "family: mobilenetv2\nparams: {width_mult: 1000000000000000}\n",
        "resnext_target": "family: resnext\nparams: {flops_target: 1000000000000000, groups: 32}\n",
        # sampled with the file's n and the default budget (the others: --n 3, 512 attempts)
        "full_infeasible_effnet": "family: efficientnet\nn: 100000\nparams: {phi: {float: [0, 3]}}"
        "\nconstraints: {flops: [1, 2]}\n",
        "full_exhausted_effnet": "family: efficientnet\nn: 1000\nparams: {phi: {float: [0, 3], "
        "q: 0.1}}\n",
        "full_infeasible_regnet": BASE.replace("n: 4", "n: 100000").replace("[null, 1.5M]",
                                                                            "[1, 2]"),
        "full_ok": BASE.replace("n: 4", "n: 20"),
    }
    files.update({
        "bom_utf8": "\ufeff" + BASE,
        "utf16": ("\ufeff" + BASE).encode("utf-16"),
        "latin1": BASE.replace("cifar", "cïfar").encode("latin-1"),
        "nul": BASE.encode() + b"\x00\n",
        "nul_mid": BASE.encode()[:20] + b"\x00" + BASE.encode()[20:],
        "truncated_utf8": BASE.encode() + "description: é".encode()[:-1],
        "binary": bytes(random.Random(SEED).randrange(256) for _ in range(4096)),
        "control_chars": BASE + "description: \"\\x07\\x1b[2J\"\n",
        "too_large_bytes": b"#" * (2 << 20),
    })
    return files


# Values a mutation puts somewhere in a shipped space.
HOSTILE_VALUES: list[Any] = [
    0, -1, 1, 10**9, 10**20, -(10**20), 10**400, 1e308, -1e308, float("inf"), float("nan"), 1e-300,
    0.5, "x", "", "8", "1e400", True, None, [], {}, [1], [1, 2, 3], {"a": 1},
    {"int": [1, 10**20]}, {"int": [1, 10**9]}, {"int": [-(10**20), 10**20]}, {"int": [0, 0]},
    {"float": [-1e308, 1e308]}, {"float": [0.0, 1e-300]}, {"float": [1, 2], "q": 1e-300},
    {"pow2": [1, 2**60]}, {"pow2": [1, 3]}, {"choice": []}, {"choice": [1, "a", None]},
    {"choice": list(range(300))}, {"int": [1, 4], "float": [1, 2]}, {"int": "x"},
    [{"int": [1, 4]}], 4096, 1001, 1000,
]


# Values that look plausible, so that a mutated space often reaches the sampler and the decoders.
MILD_VALUES: list[Any] = [
    1, 2, 4, 8, 16, 64, 0.25, 0.5, 1.5, 2.0, "imagenet", "cifar", {"int": [1, 8]},
    {"int": [8, 64], "q": 8}, {"float": [0.5, 2.0]}, {"float": [1.5, 3.0], "log": True},
    {"pow2": [1, 16]}, {"choice": [1, 2, 4]}, {"choice": ["imagenet", "cifar"]},
    {"choice": [8, 16, "x"]}, {"choice": [0.25, 0.5, 1.0]}, [1, 2], [None, 1.0e9],
]


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a parsed YAML document."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(doc: Any, rng: random.Random) -> Any:
    """One to three random edits: set a value (plausible or hostile), delete a key or add one."""
    for _ in range(rng.choice((1, 1, 2, 3))):
        paths = [p for p in _paths(doc) if p]
        path = rng.choice(paths)
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        kind = rng.random()
        if kind < 0.75:
            pool = MILD_VALUES if rng.random() < 0.6 else HOSTILE_VALUES
            parent[path[-1]] = copy.deepcopy(rng.choice(pool))
        elif kind < 0.9 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["extra", "depth", "stages", "wm", "flops", "q", "log"])] = (
                copy.deepcopy(rng.choice(HOSTILE_VALUES)))
    return doc


def _mutations(count: int) -> dict[str, str]:
    """``count`` seeded mutations of the shipped spaces, as YAML text."""
    rng = random.Random(SEED)
    out: dict[str, str] = {}
    for i in range(count):
        src = SHIPPED[i % len(SHIPPED)]
        doc = _mutate(yaml.safe_load(src.read_text()), rng)
        try:
            text = yaml.safe_dump(doc, sort_keys=False)
        except (ValueError, OverflowError):  # e.g. a huge int PyYAML cannot write
            text = yaml.safe_dump(_mutate(yaml.safe_load(src.read_text()), rng), sort_keys=False)
        out[f"mut{i:03d}_{src.stem}"] = text
    return out


WORKER = r"""
import contextlib, io, json, os, signal, sys, time
from pathlib import Path

from nasx.cli.main import main

class Timeout(BaseException):
    pass

def alarm(signum, frame):
    raise Timeout()

signal.signal(signal.SIGALRM, alarm)

def run(argv, cwd):
    out, err = io.StringIO(), io.StringIO()
    os.chdir(cwd)
    crash = None
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, float(sys.argv[1]))
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
    except Timeout:
        rc, crash = None, "timeout"
    except SystemExit as exc:
        rc = exc.code
    except BaseException as exc:  # a traceback: the test reports it
        rc, crash = None, f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        kind = json.loads(out.getvalue()).get("kind")
    except ValueError:
        kind = None
    return {"rc": rc, "crash": crash, "err": err.getvalue()[:2000], "kind": kind,
            "seconds": round(time.monotonic() - start, 2)}

for line in sys.stdin:
    space, cwd, defaults = json.loads(line)
    flags = [] if defaults else ["--n", "3", "--max-attempts", "512"]
    sample = run(["sample", space, *flags, "--no-progress"], cwd)
    sample["written"] = sorted(os.listdir(cwd))
    describe = run(["describe", space, "--json"], cwd)
    print(json.dumps({"space": space, "sample": sample, "describe": describe}), flush=True)
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _run_workers(jobs: list[tuple[str, str, bool]], workers: int = 2) -> list[dict[str, Any]]:
    """Run the worker on ``jobs`` split over ``workers`` memory-limited processes."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    procs = []
    for w in range(workers):
        part = "".join(json.dumps(j) + "\n" for j in jobs[w::workers])
        p = subprocess.Popen([sys.executable, "-c", WORKER, str(TIMEOUT_S)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                             preexec_fn=_limit_memory)
        procs.append((p, part))
    results = []
    for p, part in procs:
        out, err = p.communicate(part, timeout=20 * TIMEOUT_S + 5 * len(jobs))
        assert p.returncode == 0, f"worker died ({p.returncode}): {err[-2000:]}"
        results += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return results


def _problems(name: str, verb: str, r: dict[str, Any]) -> list[str]:
    """What is wrong with one command's outcome (empty when it is fine)."""
    bad = []
    if r["crash"]:
        bad.append(f"{name}: {verb} crashed: {r['crash']}")
        return bad
    if r["rc"] not in (0, 2):
        bad.append(f"{name}: {verb} exit {r['rc']}: {r['err'][:300]}")
    if r["rc"] == 2:
        lines = r["err"].splitlines()
        if len(lines) != 1 or not lines[0].startswith(f"nasx {verb}: error: "):
            bad.append(f"{name}: {verb} error is not one line: {r['err'][:300]!r}")
        elif len(lines[0]) > 600:  # the longest lists the 30 recipe keys
            bad.append(f"{name}: {verb} error is {len(lines[0])} characters long")
        if any(not c.isprintable() for c in lines[0] if lines):
            bad.append(f"{name}: {verb} error holds control characters: {lines[0][:200]!r}")
    if "Traceback" in r["err"]:
        bad.append(f"{name}: {verb} printed a traceback")
    return bad


def _agreement(name: str, s: dict, d: dict) -> list[str]:
    """Problems between sample's and describe's outcomes for one file (and what sample wrote)."""
    bad = []
    if s["rc"] == 2 and s["written"]:
        bad.append(f"{name}: a failed sample wrote {s['written']}")
    if s["rc"] == 0 and s["written"] != ["runs"]:
        bad.append(f"{name}: sample exit 0 but wrote {s['written']}")
    infeasible = "found only" in s["err"]
    if d["kind"] == "space" and s["rc"] == 2 and not infeasible:
        bad.append(f"{name}: describe accepts what sample rejects: {s['err'][:200]}")
    if d["rc"] == 2 and s["rc"] == 0:
        bad.append(f"{name}: sample accepts what describe rejects: {d['err'][:200]}")
    return bad


def test_hostile_space_files(tmp_path: Path) -> None:
    files = {**_handmade(), **_mutations(200)}
    assert len(files) >= 300
    jobs = []
    for name, content in files.items():
        space = tmp_path / "spaces" / f"{name}.yaml"
        space.parent.mkdir(exist_ok=True)
        if isinstance(content, bytes):
            space.write_bytes(content)
        else:
            space.write_text(content, encoding="utf-8")
        cwd = tmp_path / "cwd" / name
        cwd.mkdir(parents=True)
        jobs.append((str(space), str(cwd), name.startswith("full_")))

    results = _run_workers(jobs)
    assert len(results) == len(jobs)
    problems: list[str] = []
    outcomes: dict[str, tuple[int | None, int | None]] = {}
    infeasible_ones: set[str] = set()
    for r in results:
        name = Path(r["space"]).stem
        s, d = r["sample"], r["describe"]
        problems += _problems(name, "sample", s) + _problems(name, "describe", d)
        problems += _agreement(name, s, d)
        outcomes[name] = (s["rc"], d["rc"])
        if "found only" in s["err"]:
            infeasible_ones.add(name)
    assert not problems, "\n".join(problems[:40])

    # The generator reaches both outcomes, and the named cases end as they must.
    rejected = [n for n, (s, _) in outcomes.items() if s == 2]
    accepted = [n for n, (s, _) in outcomes.items() if s == 0]
    assert len(rejected) >= 150 and len(accepted) >= 20
    for name in ("ok_base", "bom_utf8", "deep_20", "long_description", "full_ok"):
        assert outcomes[name] == (0, 0), name
    for name in files:
        if name.startswith(("alias", "stages_", "n_", "depth_", "wa_", "pow2_2e", "choice_1",
                            "constraint_", "train_", "nul", "utf16", "latin1", "binary",
                            "too_", "deep_lists", "deep_maps", "key_", "name_", "family_",
                            "truncated")):
            assert outcomes[name] == (2, 2), name
    # valid but infeasible (or exhausted): sample says so in seconds, describe describes
    for name in ("full_infeasible_effnet", "full_exhausted_effnet", "full_infeasible_regnet"):
        assert outcomes[name] == (2, 0) and name in infeasible_ones, name
