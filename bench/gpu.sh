#!/usr/bin/env bash
# Triton throughput on an NVIDIA GPU: starts Triton over model_repository/ with configs/gpu.pbtxt (native
# ONNX Runtime backend, KIND_GPU) in explicit model-control mode, runs bench/bench_triton.py against it
# (items/s at batch sizes 1-64, p50/p95 latency, average executed batch from Triton's metrics, queue-delay
# sweep) and prints the figures; bench/out/gpu.json keeps them.
#
# Triton comes from, in this order: $TRITONSERVER (a tritonserver binary), `tritonserver` on PATH (inside the
# NGC container), or `docker run` of $TRITON_IMAGE (default nvcr.io/nvidia/tritonserver:24.10-py3).
# Extra arguments go to bench_triton.py (e.g. --models face_detector --seconds 5).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
image="${TRITON_IMAGE:-nvcr.io/nvidia/tritonserver:24.10-py3}"
http_port="${TRITON_HTTP_PORT:-18000}"
grpc_port="${TRITON_GRPC_PORT:-18001}"
metrics_port="${TRITON_METRICS_PORT:-18002}"
out="$repo/bench/out"

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "bench/gpu.sh: no NVIDIA GPU is visible here (nvidia-smi -L failed); run it on a machine with one" >&2
  exit 2
fi
if [[ ! -x "$python" ]]; then
  echo "bench/gpu.sh: $python not found; run 'make setup' first (or set PYTHON)" >&2
  exit 2
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

args=(--model-repository="$repo/model_repository" --model-config-name=gpu
  --model-control-mode=explicit --load-model='*' --strict-readiness=true
  --http-port="$http_port" --grpc-port="$grpc_port" --metrics-port="$metrics_port")
log="$(mktemp)"
binary="${TRITONSERVER:-$(command -v tritonserver || true)}"
if [[ -n "$binary" ]]; then
  "$binary" "${args[@]}" >"$log" 2>&1 &
  server_pid=$!
  cleanup() { kill -INT "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; }
  show_log() { tail -n 30 "$log" >&2; }
elif command -v docker >/dev/null 2>&1; then
  args[0]="--model-repository=/models"
  container="$(docker run -d --rm --gpus all --network host -v "$repo/model_repository:/models:ro" \
    "$image" tritonserver "${args[@]}")"
  cleanup() { docker stop "$container" >/dev/null 2>&1 || true; }
  show_log() { docker logs --tail 30 "$container" >&2 2>&1 || true; }
else
  echo "bench/gpu.sh: no tritonserver binary (set TRITONSERVER) and no docker to run $image" >&2
  exit 2
fi
trap cleanup EXIT

for _ in $(seq 1 240); do
  if curl -sf "http://127.0.0.1:$http_port/v2/health/ready" >/dev/null; then
    break
  fi
  if [[ -n "${server_pid:-}" ]] && ! kill -0 "$server_pid" 2>/dev/null; then
    echo "bench/gpu.sh: Triton exited; its last lines:" >&2
    show_log
    exit 1
  fi
  sleep 0.5
done
if ! curl -sf "http://127.0.0.1:$http_port/v2/health/ready" >/dev/null; then
  echo "bench/gpu.sh: Triton was not ready after 120 s; its last lines:" >&2
  show_log
  exit 1
fi

mkdir -p "$out"
"$python" "$repo/bench/bench_triton.py" --triton-url "127.0.0.1:$grpc_port" \
  --metrics-url "http://127.0.0.1:$metrics_port/metrics" --concurrency 16 --json-out "$out/gpu.json" "$@"
