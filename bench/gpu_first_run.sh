#!/usr/bin/env bash
# The first run of nasx on a GPU: about 8 minutes on one GPU, one command, figures to commit.
#
#     bash bench/gpu_first_run.sh            # GPU 0; GPU=1 bash bench/gpu_first_run.sh for another
#
# Writes bench/gpu_first_run/<GPU name>/ : one log per step, steps.tsv (step, exit status, wall
# seconds) and results.json (every figure the steps wrote), then prints the folder to commit.
# A step that fails or runs past its time limit is recorded as such and the next one runs.
# Steps (time limits in seconds; their sum is 570 s, the usual total is under 8 minutes):
#   env         torch, CUDA, the GPU's name, memory, compute capability, bf16 by emulation or not
#   tests       the CUDA-only tests of the suite (they skip on a CPU machine)
#   throughput  bench_train.py, 8 networks of spaces/regnet_cifar.yaml, 1 epoch of 50,000 images:
#               images/s, models per GPU-hour, peak memory per trial, % of the dense bf16 peak
#   determin.   the same for 4 networks with the recipe's deterministic flag (its cost)
#   compile     2 networks with --compile (a fresh dynamo cache per trial: compile time per trial)
#   packing     bench_train.py --packing 1,2,4,8: 16 networks through Ray at 1/k GPU per trial:
#               done/failed, models per GPU-hour, images/s, % of bf16 peak, peak memory per trial
#   eval        bench_eval_shapes.py: one padded evaluation shape vs partial batches, autotuning
#   measure     nasx describe RegNetX-200MF --measure --device cuda: latency and training memory
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
GPU="${GPU:-0}"
PY="${PYTHON:-python}"

NAME=$("$PY" -c "import sys, torch
if not torch.cuda.is_available() or $GPU >= torch.cuda.device_count():
    sys.exit(1)
print(torch.cuda.get_device_name($GPU).replace(' ', '_'))") || {
    echo "gpu_first_run.sh: no usable CUDA GPU $GPU here (torch.cuda.is_available() is False); nothing recorded" >&2
    exit 2
}
OUT="bench/gpu_first_run/$NAME"
mkdir -p "$OUT"
: > "$OUT/steps.tsv"
echo "gpu_first_run.sh: GPU $GPU ($NAME); figures into $OUT/"

step() {  # step NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    local t0=$SECONDS
    echo "== $name (at most ${limit} s): $*"
    timeout --signal=INT --kill-after=15 "$limit" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" >> "$OUT/steps.tsv"
    tail -n 4 "$OUT/$name.log"
    [ "$rc" -eq 0 ] || echo "   -> $name exited $rc (124: out of time); see $OUT/$name.log"
}

step env 30 "$PY" -c "import json, torch
p = torch.cuda.get_device_properties($GPU)
print(json.dumps({'torch': torch.__version__, 'cuda': torch.version.cuda,
    'cudnn': torch.backends.cudnn.version(), 'name': p.name,
    'memory_gib': round(p.total_memory / 2**30, 1), 'capability': [p.major, p.minor],
    'bf16_supported': torch.cuda.is_bf16_supported(),
    'nasx_amp_dtype': 'bfloat16' if p.major >= 8 else 'float16'}))"
nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1 || true
step tests 60 "$PY" -m pytest -q -p no:cacheprovider tests/train/test_train_cuda_real.py \
    tests/measure/test_measure.py::test_cuda_latency_and_memory
step throughput 110 "$PY" bench/bench_train.py spaces/regnet_cifar.yaml --models 8 --epochs 1 \
    --device "cuda:$GPU" --json "$OUT/throughput.json"
step deterministic 70 "$PY" bench/bench_train.py spaces/regnet_cifar.yaml --models 4 --epochs 1 \
    --device "cuda:$GPU" --deterministic --json "$OUT/deterministic.json"
step compile 90 "$PY" bench/bench_train.py spaces/regnet_cifar.yaml --models 2 --epochs 1 \
    --device "cuda:$GPU" --compile --json "$OUT/compile.json"
step packing 150 "$PY" bench/bench_train.py spaces/regnet_cifar.yaml --packing 1,2,4,8 \
    --models 16 --epochs 1 --train-images 20000 --gpu "$GPU" --out "runs/gpu_first_run_packing" \
    --json "$OUT/packing.json"
step eval 40 "$PY" bench/bench_eval_shapes.py --models 4 --device "cuda:$GPU"
step measure 20 "$PY" -m nasx describe RegNetX-200MF --measure --device "cuda:$GPU" --json

"$PY" - "$OUT" <<'EOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
res = {"steps": [dict(zip(("step", "rc", "seconds"), line.split("\t")))
                 for line in (out / "steps.tsv").read_text().splitlines()]}
env = (out / "env.log").read_text().strip().splitlines()
res["env"] = json.loads(env[-1]) if env and env[-1].startswith("{") else None
for name in ("throughput", "deterministic", "compile", "packing"):
    f = out / f"{name}.json"
    res[name] = json.loads(f.read_text()) if f.exists() else None
for name in ("eval", "measure"):
    f = out / f"{name}.log"
    res[name] = f.read_text()[-4000:] if f.exists() else None
(out / "results.json").write_text(json.dumps(res, indent=2))
print(f"wrote {out / 'results.json'}: commit {out}/ and copy the figures to bench/RESULTS.md")
EOF
