"""``nasx export RUN``: write one trial as spec YAML, safetensors, TorchScript, ONNX + provenance."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nasx.types import JSONValue


def register(subparsers: Any) -> None:
    """Add the ``export`` verb."""
    p = subparsers.add_parser(
        "export", help="export a trial (spec, weights, TorchScript, ONNX, provenance)",
        description="Export one trial of a run into --out: spec.yaml (nasx.load_spec), "
        "weights.safetensors, model.ts (torch.jit.load), model.onnx (onnxruntime) and "
        "provenance.json. Files are written to a temporary folder beside --out and renamed at "
        "the end. --best picks the lowest validation error among the done trials of the run's "
        "population recipe (trials trained with another recipe never compete); --objective "
        "pareto picks the knee of the (validation error, flops) Pareto front instead (the front "
        "point farthest from the chord between its ends; the lowest error when the front has "
        "< 3 points). Without --train, only trials whose kept weights can produce the asked "
        "formats compete. The test error is shown beside the validation error; provenance.json "
        "records both, and the input preprocessing (mean/std per channel, resolution) that users "
        "of model.onnx / model.ts must apply.",
    )
    p.add_argument("run_dir", metavar="RUN", help="run folder, e.g. runs/regnet_digits")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--trial", type=int, default=None, metavar="ID", help="trial id")
    which.add_argument("--best", action="store_true", help="pick the best done trial")
    p.add_argument("--objective", choices=("error", "pareto"), default="error",
                   help="what --best means (default: error)")
    p.add_argument("--format", default="yaml,safetensors,torchscript,onnx",
                   help="comma-separated subset of yaml,safetensors,torchscript,onnx (default: all)")
    p.add_argument("--out", required=True, help="output folder (must not exist or be empty)")
    p.add_argument("--train", action="store_true",
                   help="train the architecture first with the run's population recipe and "
                   "export those weights (needed for trials whose weights were not kept)")
    p.add_argument("--epochs", type=int, default=None,
                   help="epochs for --train (default: the population's; differences are printed)")
    p.add_argument("--device", default=None, help="device for --train: auto | cpu | cuda | cuda:N")
    p.add_argument("--data-dir", default=None, help="data folder for --train (default: the run's)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Export and print what was written."""
    from nasx.api import export
    from nasx.export import FILES

    out = export(args.run_dir, args.out, trial=args.trial, best=args.best,
                 objective=args.objective, formats=args.format, train=args.train,
                 epochs=args.epochs, device=args.device, data_dir=args.data_dir)
    doc = json.loads((Path(out) / "provenance.json").read_text())
    t = doc["trial"]
    files = [FILES[f] for f in FILES if f in doc["files"]] + ["provenance.json"]
    print(f"exported trial {t['id']} ({t['status']}, {_errors(doc['errors'])}, "
          f"{doc['complexity']['flops'] / 1e6:.2f} MF, {doc['complexity']['params']:,} params) "
          f"to {out}: {', '.join(files)}")
    if doc["selection"]["objective"]:
        print(f"chosen by: {doc['selection']['rule']}")
    if doc["weights"] and doc["weights"].get("source") == "trained by export":
        print(f"trained for export: {_errors(doc['weights'].get('errors') or {})}")
    for note in doc["notes"]:
        print(f"note: {note}")
    return 0


def _errors(errors: Mapping[str, JSONValue]) -> str:
    """'validation error 3.10%, test error 4.20%' (the test error only when no validation one)."""
    parts = [f"{name} error {errors[split]:.2f}%" for split, name in
             (("validation", "validation"), ("test", "test"))
             if isinstance(errors.get(split), int | float)]
    return ", ".join(parts) or "error n/a"
