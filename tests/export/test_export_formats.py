"""Export the best trial in every format; check it in an interpreter without nasx."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

import nasx
from nasx.export import export_trial
from nasx.models import count_params
from nasx.store.run_store import RunStore

HERE = Path(__file__).resolve().parent


def test_best_trial_in_every_format(run_dir, tmp_path):
    out = export_trial(run_dir, best=True, out=tmp_path / "best")
    assert out == tmp_path / "best"
    assert sorted(p.name for p in out.iterdir()) == [
        "model.onnx", "model.ts", "provenance.json", "spec.yaml", "weights.safetensors"]
    assert [p.name for p in tmp_path.iterdir()] == ["best"]  # no temporary folder left
    doc = json.loads((out / "provenance.json").read_text())
    with RunStore.open(run_dir) as store:
        record = store.get(2)
        meta = store.meta()
    assert doc["trial"]["id"] == 2 and doc["trial"]["error"] == 10.0
    assert doc["selection"]["objective"] == "error"
    assert doc["trial"]["values"] == record.values and doc["trial"]["seed"] == record.seed
    assert doc["trial"]["recipe"]["epochs"] == 1
    assert doc["run"]["space_sha256"] == meta["space_sha256"]
    assert doc["complexity"] == {"flops": record.flops, "params": record.params,
                                 "acts": record.acts}
    assert doc["versions"]["torch"] == torch.__version__
    assert doc["versions"]["nasx"] == nasx.__version__
    assert doc["weights"] == {"source": "run", "file": "weights/2.safetensors"}
    assert doc["skipped"] == []
    # Trial 3 (validation error 15%) has no weights: it could not compete for ONNX/TorchScript.
    assert doc["notes"] == ["1 trial without kept weights left out (--train considers them "
                            "and trains the chosen one)"]
    assert doc["selection"]["candidates"] == 2
    res = record.spec.resolution
    assert doc["input"]["shape"] == [1, 1, res, res] and doc["input"]["onnx_dynamic_batch"]
    prep = doc["input"]["preprocessing"]
    assert (prep["data"], prep["resolution"], prep["channels"], prep["num_classes"]) == (
        "digits", res, 1, 10)

    # The rebuilt spec has the same parameter count and, with the exported weights, the same
    # outputs as the trial's own weights.
    spec = nasx.load_spec(out / "spec.yaml")
    assert spec.fingerprint() == record.fingerprint
    model = nasx.build_model(spec, init=False)
    model.load_state_dict(load_file(str(out / "weights.safetensors")))
    ref = nasx.build_model(spec, init=False)
    ref.load_state_dict(load_file(str(run_dir / record.weights)))
    assert count_params(model) == record.params
    x = torch.randn(1, 1, res, res, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = model.eval()(x)
        assert torch.equal(y, ref.eval()(x))

    # TorchScript and ONNX in a fresh interpreter that refuses to import nasx.
    np.save(tmp_path / "x.npy", x.numpy())
    res_path = tmp_path / "res.json"
    subprocess.run([sys.executable, str(HERE / "check_export.py"), str(out),
                    str(tmp_path / "x.npy"), str(res_path)], check=True, cwd=tmp_path,
                   timeout=300)
    res = json.loads(res_path.read_text())
    assert res["nasx_imported"] is False
    assert res["shape_1"] == [1, 10] and res["shape_3"] == [3, 10]
    assert res["diff_1"] < 1e-4 and res["diff_3"] < 1e-4
    y_ts = np.load(f"{res_path}.ts.npy")
    assert np.abs(y_ts - y.numpy()).max() < 1e-5
