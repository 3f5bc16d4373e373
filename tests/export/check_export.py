"""Run in a fresh interpreter that cannot import nasx: load model.ts and model.onnx, compare.

usage: python check_export.py EXPORT_DIR INPUT.npy OUT.json
"""

import importlib.abc
import json
import sys


class _NoNasx(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "nasx" or name.startswith("nasx."):
            raise ImportError("nasx must not be needed to run an export")
        return None


sys.meta_path.insert(0, _NoNasx())

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

folder, x_path, out_path = sys.argv[1:4]
x = np.load(x_path)
ts = torch.jit.load(f"{folder}/model.ts")
ts.eval()
sess = ort.InferenceSession(f"{folder}/model.onnx", providers=["CPUExecutionProvider"])
name = sess.get_inputs()[0].name
res = {"input_shape": [str(d) for d in sess.get_inputs()[0].shape]}
for batch in (1, 3):
    xb = np.concatenate([x] * batch).astype(np.float32)
    with torch.no_grad():
        y_ts = ts(torch.from_numpy(xb)).numpy()
    y_ort = sess.run(None, {name: xb})[0]
    res[f"shape_{batch}"] = list(y_ort.shape)
    res[f"diff_{batch}"] = float(np.abs(y_ts - y_ort).max())
    if batch == 1:
        np.save(f"{out_path}.ts.npy", y_ts)
res["nasx_imported"] = any(m == "nasx" or m.startswith("nasx.") for m in sys.modules)
with open(out_path, "w") as fh:
    json.dump(res, fh)
