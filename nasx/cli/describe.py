"""``nasx describe TARGET``: a zoo model, a spec file, a space file or a run, in words or JSON.

A zoo name or spec file prints its complexity and stage table; a space file its family,
parameters, relations and constraints (``--probe K`` also estimates the acceptance rate from K
candidates); a run folder its metadata and trial counts.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasx.cli.measure import add_options as add_measure_options
from nasx.fmt import si
from nasx.types import JSONObject

if TYPE_CHECKING:
    from nasx.arch.spec import ArchSpec

MAX_PROBE = 10**7  # candidates of --probe
STAGE_FIELDS = ("block", "depth", "width", "stride", "bottleneck", "groups", "expansion",
                "kernel", "se_ratio")


def register(subparsers: Any) -> None:
    """Add the ``describe`` verb."""
    p = subparsers.add_parser(
        "describe", help="describe a zoo model, spec file, space file or run",
        description="Describe TARGET: a zoo model name (e.g. RegNetX-200MF) or ArchSpec YAML file"
        " -> complexity (flops = multiply-adds, params, acts) and stage table; a search-space"
        " file -> family, parameters, relations, constraints; a run folder -> metadata and"
        " trial counts.",
    )
    p.add_argument("target", metavar="NAME_OR_FILE",
                   help="zoo model name, spec/space YAML file or run folder")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--probe", type=int, default=0, metavar="K",
                   help="space files: estimate the acceptance rate from K candidates")
    p.add_argument("--seed", type=int, default=0, help="seed of --probe (default: 0)")
    p.add_argument("--measure", action="store_true",
                   help="models: also measure latency (PyTorch, ONNX Runtime, CUDA when present)"
                   " and training memory, with their noise")
    add_measure_options(p)
    p.set_defaults(func=run)


def describe_spec(spec: ArchSpec) -> JSONObject:
    """Complexity and stage table of an ArchSpec: the ``--json`` object (the text reads it)."""
    from nasx.arch.complexity import complexity

    comp = complexity(spec)
    return {
        "kind": "model", "name": spec.name, "family": spec.family, "flops": comp.flops,
        "params": comp.params, "acts": comp.acts, "resolution": spec.resolution,
        "in_channels": spec.in_channels, "num_classes": spec.num_classes,
        "stem": {"width": spec.stem.width, "kernel": spec.stem.kernel,
                 "stride": spec.stem.stride, "pool": spec.stem.pool},
        "stages": [{k: getattr(st, k) for k in STAGE_FIELDS} for st in spec.stages],
        "head": {"width": spec.head.width, "dropout": spec.head.dropout},
        "spec": spec.to_dict(),
    }


def describe_space(path: Path, probe: int = 0, seed: int = 0) -> JSONObject:
    """Summary of a space file (validated against its family) as the ``--json`` object."""
    import numpy as np

    from nasx.api.spaces import load_space
    from nasx.sample import probe_space

    space = load_space(str(path))  # exactly what `nasx sample` checks before it draws
    out: JSONObject = {
        "kind": "space", "file": str(path), "name": space.name, "family": space.family,
        "n": space.n, "seed": space.seed, "sha256": space.sha256, "stages": space.stages,
        "input": {k: str(p) for k, p in space.input.items()},
        "params": {k: str(p) for k, p in space.params.items()},
        "per_stage": {k: [str(p) for p in ps] for k, ps in space.per_stage.items()},
        "relations": dict(space.relations),
        "constraints": {k: list(b) for k, b in space.constraints.items()},
        **({"measured": {k: list(b) for k, b in space.measured.items()},
            "measure": space.measure.to_dict()} if space.measured else {}),
        "train": {**space.train_fixed, **{k: str(d) for k, d in space.train_dists.items()}},
    }
    if probe > 0:
        res = probe_space(space, probe, np.random.default_rng(seed))
        flops = [t.flops for t in res.trials]
        out["probe"] = {
            "attempts": res.attempts, "accepted": res.accepted,
            "acceptance_rate": res.acceptance_rate, "rejected": res.rejected,
            "flops": [min(flops), max(flops)] if flops else None,
        }
    return out


def describe_run(path: Path) -> JSONObject:
    """Metadata and trial counts of a run folder."""
    from nasx.store import RunStore

    with RunStore.open(path) as store:
        return {"kind": "run", "run": str(path), "meta": store.meta(), "counts": store.counts()}


def _is_spec_file(path: Path) -> bool:
    """Spec files have `zoo`, `values` or a list of `stages`; space files an int `stages`.

    A spec file's ``values`` are held to the sampler's limits here (a RegNet of depth 10**9 would
    take the decoder minutes and gigabytes).
    """
    from nasx.sample.bind import check_value_limits
    from nasx.yamlio import YamlLimitError, load_yaml, read_text

    try:
        raw = load_yaml(read_text(path))
    except (OSError, YamlLimitError):
        return False  # let the space loader report it
    spec = isinstance(raw, dict) and (
        "zoo" in raw or "values" in raw or isinstance(raw.get("stages"), list)
    )
    if spec and isinstance(raw.get("values"), dict):
        check_value_limits(raw["values"], file=str(path))
    return spec


def describe(target: str, probe: int = 0, seed: int = 0) -> JSONObject:
    """Dispatch on what ``target`` names (run folder, YAML file, else zoo name)."""
    from nasx.errors import NasxError
    from nasx.store import RunStore

    path = Path(target)
    if path.is_dir():
        if not RunStore.exists(path):
            raise NasxError("a folder but not a run (no run.db)", where=target)
        return describe_run(path)
    if path.exists() and not path.is_file():  # a FIFO, a device: refused as every reader does
        return describe_space(path, probe, seed)
    if path.is_file():
        if _is_spec_file(path):
            from nasx.arch.io import load_spec

            return describe_spec(load_spec(path))
        return describe_space(path, probe, seed)
    from nasx.arch import zoo
    from nasx.space.shipped import resolve_space

    # A zoo name wins over a shipped space of the same name (mobilenetv2): it always did.
    is_zoo = target.lower() in {name.lower() for name in zoo.names()}
    shipped = resolve_space(target)
    if shipped != path and not is_zoo:
        return describe_space(shipped, probe, seed)
    if path.suffix in (".yaml", ".yml") or "/" in target:
        raise NasxError("no such file or folder", where=target)
    return describe_spec(zoo.get(target))


def _si(x: float) -> str:
    return si(x, 4, small_digits=6)  # the CLI's figures: 4 digits with a suffix, else as %g


def _escaped_print(escape: Any) -> Any:
    """print() that escapes non-printable characters in what it prints."""
    import builtins

    def out(*parts: Any) -> None:
        builtins.print(*(escape(str(p)) for p in parts))

    return out


def _print_model(d: JSONObject) -> None:
    from rich.console import Console
    from rich.table import Table

    print(f"{d['name'] or '(unnamed)'}  family {d['family']}, input {d['in_channels']}x"
          f"{d['resolution']}x{d['resolution']}, {d['num_classes']} classes")
    print(f"flops {d['flops']} ({_si(d['flops'])}), params {d['params']} ({_si(d['params'])}),"
          f" acts {d['acts']} ({_si(d['acts'])})")
    table = Table(title_justify="left")
    table.add_column("stage", justify="right")
    for col in ("block", "depth", "width", "stride", "bottleneck", "groups", "se"):
        table.add_column(col, justify="right")
    for i, st in enumerate(d["stages"], start=1):
        table.add_row(str(i), st["block"], str(st["depth"]), str(st["width"]), str(st["stride"]),
                      str(st["bottleneck"] or ""), str(st["groups"]), f"{st['se_ratio']:g}")
    Console(width=200).print(table)


def _print_space(d: JSONObject) -> None:
    from nasx.errors import printable

    print = _escaped_print(printable)  # values come from the user's file: no terminal controls
    print(f"{d['file']}: space '{d['name']}', family {d['family']}, n {d['n']}, seed {d['seed']}"
          + (f", {d['stages']} stages" if d["stages"] else ""))
    for section in ("input", "params"):
        for k, v in d[section].items():
            print(f"  {section}.{k}: {v}")
    for k, vs in d["per_stage"].items():
        rel = d["relations"].get(k)
        shown = vs[0] if len(set(vs)) == 1 else " | ".join(vs)  # one range for every stage
        print(f"  per_stage.{k}: {shown}" + (f"  ({rel})" if rel else ""))
    for k, (lo, hi) in d["constraints"].items():
        print(f"  constraint {k}: [{'-inf' if lo is None else _si(lo)}, "
              f"{'inf' if hi is None else _si(hi)}]")
    for k, (lo, hi) in d.get("measured", {}).items():
        from nasx.space import MeasureSettings

        how = MeasureSettings.parse(d["measure"]).describe()
        print(f"  measured constraint {k}: [{'-inf' if lo is None else f'{lo:g}'}, "
              f"{'inf' if hi is None else f'{hi:g}'}] ({how}; measured at sampling for the "
              "candidates the other constraints accept, not by --probe)")
    for k, v in d["train"].items():
        print(f"  train.{k}: {v}")
    if "probe" in d:
        p = d["probe"]
        why = ", ".join(f"{k} {v}" for k, v in sorted(p["rejected"].items(), key=lambda kv: -kv[1]))
        print(f"  probe: {p['accepted']} of {p['attempts']} candidates accepted "
              f"({100 * p['acceptance_rate']:.3g}%){'; rejected: ' + why if why else ''}")


def _add_measured(d: JSONObject, args: argparse.Namespace) -> None:
    """``describe --measure``: the measurements in the JSON object, and their lines for the text."""
    from dataclasses import asdict

    from nasx.arch.spec import ArchSpec
    from nasx.cli.measure import check_options, measure_args

    check_options(args)
    got = measure_args(ArchSpec.from_dict(d["spec"]), args)  # type: ignore[arg-type]
    if args.json:
        d["measured"] = [asdict(m) for m in got]  # type: ignore[misc]
    else:
        d["measured_lines"] = [m.line() for m in got]


def run(args: argparse.Namespace) -> int:
    """Print the description."""
    from nasx.errors import NasxError

    if not 0 <= args.probe <= MAX_PROBE:
        raise NasxError(rule=f"--probe must be in [0, {MAX_PROBE}]", value=args.probe)
    if not 0 <= args.seed <= 2**63 - 1:
        raise NasxError(rule="--seed must be in [0, 2**63 - 1]", value=args.seed)
    d = describe(args.target, probe=args.probe, seed=args.seed)
    if args.measure and d["kind"] == "model":
        _add_measured(d, args)
    if args.json:
        print(json.dumps(d, indent=1))
    elif d["kind"] == "model":
        _print_model(d)
        for line in d.get("measured_lines", []):
            print(line)
    elif d["kind"] == "space":
        _print_space(d)
    else:
        print(f"{d['run']}: run '{d['meta'].get('name')}', family {d['meta'].get('family')}")
        print("  " + ", ".join(f"{k} {v}" for k, v in d["counts"].items()))
        for k, v in d["meta"].items():
            print(f"  {k}: {v}")
    return 0
