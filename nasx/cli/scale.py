"""``nasx scale MODEL --flops X``: scale a model's depth, width, group width and resolution.

The rules are those of "Fast and Accurate Model Scaling" as pycls's scaler applies them
(:mod:`nasx.arch.scale`). MODEL is a zoo name, a spec YAML file, or a run folder with ``--trial``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasx.fmt import si

if TYPE_CHECKING:
    from nasx.arch.scale import Strategy
    from nasx.arch.spec import ArchSpec


def register(subparsers: Any) -> None:
    """Add the ``scale`` verb."""
    p = subparsers.add_parser(
        "scale", help="scale a model to more (or fewer) flops: depth, width, resolution",
        description="Scale MODEL (a zoo name, a spec YAML file, or a run folder with --trial) by "
        "a flops factor (4x) or to a flops budget (800M) with a strategy of 'Fast and Accurate "
        "Model Scaling' (Dollar et al. 2021), exactly as pycls's scaler: d * w^2 * r^2 = s; "
        "depths rounded, widths to multiples of 8, group widths kept compatible, resolution to "
        "a multiple of 4. A RegNet becomes the AnyNet of its stages.",
    )
    p.add_argument("model", metavar="MODEL", help="zoo name, spec YAML file or run folder")
    p.add_argument("--trial", type=int, default=None, metavar="ID",
                   help="with a run folder: the trial to scale")
    p.add_argument("--flops", required=True, metavar="X",
                   help="a factor (4x, 0.5x) or an absolute budget (800M, 1.6G)")
    p.add_argument("--strategy", default="dWr",
                   help="d, w, r, dw, dr, wr, dwr (pycls: g for group width), the paper's "
                   "mixed case dWr (upper case weighs --alpha; group width follows width), or "
                   "weights d1_w8_g8_r1 (default: dWr)")
    p.add_argument("--alpha", type=float, default=0.8,
                   help="share of the upper-case dimensions in a mixed-case strategy (0.8)")
    p.add_argument("--family", type=int, default=None, metavar="N",
                   help="N models with factors spaced geometrically from 1 to the factor")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="write the scaled spec (with --family: FILE-1.yaml ... FILE-N.yaml)")
    p.set_defaults(func=run)


def load_model(target: str, trial: int | None) -> ArchSpec:
    """The ArchSpec MODEL names: a run's trial, a spec file, or a zoo model."""
    from nasx.arch import zoo
    from nasx.arch.io import load_spec
    from nasx.errors import NasxError

    path = Path(target)
    if path.is_dir():
        from nasx.store import RunStore

        if trial is None:
            raise NasxError("a run folder needs --trial ID", where=target)
        with RunStore.open(path, readonly=True) as store:
            spec = store.get(trial).spec
        return spec if spec.name else _named(spec, f"{path.name} trial {trial}")
    if trial is not None:
        raise NasxError("--trial applies to a run folder only", where=target)
    if path.exists() or path.suffix in (".yaml", ".yml"):
        spec = load_spec(path)
        return spec if spec.name else _named(spec, path.stem)
    return zoo.get(target)


def _named(spec: ArchSpec, name: str) -> ArchSpec:
    from dataclasses import replace

    return replace(spec, name=name)


def _group_widths(spec: ArchSpec) -> list[str]:
    return [str(st.bottleneck // st.groups) if st.block == "bottleneck" else "-"
            for st in spec.stages]


def _print_pair(base: ArchSpec, scaled: ArchSpec, factor: float) -> None:
    """Base vs scaled: d, w, g per stage, resolution, flops, params, acts, exact flops ratio."""
    from rich.console import Console
    from rich.table import Table

    from nasx.arch.complexity import complexity

    cb, cs = complexity(base), complexity(scaled)
    table = Table(title_justify="left")
    for col in ("stage", "d", "d'", "w", "w'", "g", "g'"):
        table.add_column(col, justify="right")
    for i, (a, b, ga, gb) in enumerate(zip(base.stages, scaled.stages, _group_widths(base),
                                           _group_widths(scaled), strict=True), start=1):
        table.add_row(str(i), str(a.depth), str(b.depth), str(a.width), str(b.width), ga, gb)
    Console(width=200).print(table)
    print(f"resolution {base.resolution} -> {scaled.resolution}; stem {base.stem.width} -> "
          f"{scaled.stem.width}; head {base.head.width or '-'} -> {scaled.head.width or '-'}")
    for key in ("flops", "params", "acts"):
        x, y = getattr(cb, key), getattr(cs, key)
        print(f"{key:6s} {x} ({si(x, 4)}) -> {y} ({si(y, 4)}), x{y / x:.4f}")
    print(f"flops ratio {cs.flops / cb.flops:.6f} for factor {factor:.6g}")


def _scaled(base: ArchSpec, args: argparse.Namespace, strategy: Strategy) -> list[
        tuple[float, ArchSpec]]:
    """(factor, scaled spec) of the one model, or of each member of --family."""
    from nasx.arch.complexity import complexity
    from nasx.arch.scale import factor_for_flops, family_factors, parse_flops, scale_spec

    kind, value = parse_flops(args.flops)
    factor = value if kind == "factor" else factor_for_flops(base, value, strategy)
    if args.family is None:
        return [(factor, scale_spec(base, factor, strategy))]
    out = []
    for f in family_factors(factor, args.family):
        if kind == "flops" and f != 1.0:  # each member aims at its share of the budget
            f = factor_for_flops(base, complexity(base).flops * f, strategy)
        out.append((f, scale_spec(base, f, strategy)))
    return out


def _write(models: list[tuple[float, ArchSpec]], out: str, family: bool) -> list[Path]:
    from nasx.arch.io import save_spec

    path = Path(out)
    if not family:
        return [save_spec(models[0][1], path)]
    return [save_spec(spec, path.with_name(f"{path.stem}-{k}{path.suffix or '.yaml'}"))
            for k, (_, spec) in enumerate(models, start=1)]


def _print_family(base: ArchSpec, models: list[tuple[float, ArchSpec]]) -> None:
    from nasx.arch.complexity import complexity

    b = complexity(base).flops
    print(f"{base.name}: {len(models)} scaled models")
    for k, (f, spec) in enumerate(models, start=1):
        c = complexity(spec)
        print(f"  {k}: factor {f:.4g}, depths {spec.depths}, widths {spec.widths}, res "
              f"{spec.resolution}, flops {si(c.flops, 4)} (x{c.flops / b:.4f}), params "
              f"{si(c.params, 4)}, acts {si(c.acts, 4)}")


def run(args: argparse.Namespace) -> int:
    """Scale, print, and write with --out."""
    from nasx.arch.scale import check_scalable, parse_strategy

    strategy = parse_strategy(args.strategy, args.alpha)
    base = load_model(args.model, args.trial)
    check_scalable(base)
    models = _scaled(base, args, strategy)
    if args.family is None:
        print(f"{base.name}: strategy {strategy.name} (weights d {strategy.d:g}, w "
              f"{strategy.w:g}, g {strategy.g:g}, r {strategy.r:g})")
        _print_pair(base, models[0][1], models[0][0])
    else:
        _print_family(base, models)
    if args.out:
        for path in _write(models, args.out, args.family is not None):
            print(f"wrote {path}")
    return 0
