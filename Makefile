# Laughter analysis service. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SAMPLE ?= samples/sample.mp4
PYTEST_ARGS ?=

.PHONY: help setup postgres redis deploy-tools docker-check proto protoset lint models models-resnet models-check train-audio eval run demo web web-deps test test-unit screenshots test-integration fuzz bench bench-gpu clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]" -e "clients/python[cli,batch]"
	touch $(STAMP)

setup: $(STAMP) node_modules/.bin/buf postgres redis deploy-tools ## create .venv and install the server, the SDK and the dev tools

postgres: ## install Debian's PostgreSQL server (the store tests start their own) unless initdb is there
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
		else \
			echo "PostgreSQL is missing: run 'sudo apt-get update && sudo apt-get install -y postgresql'" >&2; exit 1; \
		fi; \
	fi

redis: ## install Debian's redis-server (the batch tests start their own) unless it is there
	@if ! command -v redis-server >/dev/null 2>&1; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
		else \
			echo "redis-server is missing: run 'sudo apt-get update && sudo apt-get install -y redis-server'" >&2; exit 1; \
		fi; \
	fi

deploy-tools: ## install Debian's docker-compose and prometheus (promtool) for the docker/ checks unless they are there
	@if ! command -v docker-compose >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then \
		if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-compose prometheus; \
		else \
			echo "docker-compose or promtool is missing: run 'sudo apt-get install -y docker-compose prometheus'" >&2; exit 1; \
		fi; \
	fi

docker-check: $(STAMP) deploy-tools ## lint the Dockerfiles (hadolint), check compose.yaml, envoy.yaml (Envoy itself) and prometheus.yml
	$(VENV)/bin/hadolint docker/Dockerfile.server docker/Dockerfile.worker
	cd docker && POSTGRES_PASSWORD=check docker-compose -f compose.yaml config -q
	$(VENV)/bin/envoy --mode validate -c docker/envoy.yaml --disable-hot-restart -l error
	promtool check config docker/prometheus.yml

node_modules/.bin/buf: package.json package-lock.json
	npm ci --silent --no-audit --no-fund
	touch $@

WEB := clients/web
WEB_LISTEN ?= 127.0.0.1:8080

$(WEB)/node_modules/.bin/esbuild: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --silent --no-audit --no-fund
	touch $@

web: $(WEB)/node_modules/.bin/esbuild ## build the browser page into clients/web/dist (served on --web-listen)
	cd $(WEB) && npm run --silent typecheck && npm run --silent build

web-deps: web ## the browser tests' needs: Debian's chromium (apt-get, when missing) and the built page
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

proto: $(STAMP) node_modules/.bin/buf $(WEB)/node_modules/.bin/esbuild ## lint the API with buf, regenerate the Python stubs and the page's TypeScript
	cd protos && ../node_modules/.bin/buf lint
	tools/gen_protos.sh
	tools/gen_web_protos.sh

PROTOSET := build/laughter.protoset

protoset: $(STAMP) ## write build/laughter.protoset (FileDescriptorSet with imports) for ghz --protoset, grpcurl -protoset
	mkdir -p $(dir $(PROTOSET))
	cd protos && $(abspath $(PY)) -m grpc_tools.protoc -I . -I third_party --include_imports --include_source_info \
		--descriptor_set_out=$(abspath $(PROTOSET)) laughter/v1/*.proto
	@echo "wrote $(PROTOSET)"

lint: $(STAMP) node_modules/.bin/buf $(WEB)/node_modules/.bin/esbuild docker-check ## ruff, mypy, buf lint, the docker/ checks and a check that the stubs are up to date
	$(VENV)/bin/ruff format --check server tests tools bench docker clients/python/src/laughter --exclude clients/python/src/laughter/v1
	$(VENV)/bin/ruff check server tests tools bench docker clients/python/src
	$(VENV)/bin/shellcheck .ci/run bench/*.sh tools/*.sh
	$(VENV)/bin/mypy server/laughter_server server/laughter_train
	$(VENV)/bin/mypy --strict clients/python/src/laughter --exclude 'clients/python/src/laughter/v1/'
	cd protos && ../node_modules/.bin/buf lint
	tools/gen_protos.sh --check
	tools/gen_web_protos.sh --check
	cd $(WEB) && npm run --silent typecheck

DETECTOR_CALIBRATION := build/detector-calibration.npz

models: $(STAMP) ## rebuild the Triton models from their registry packages (separate export venv) and verify checksums
	test -x .venv-export/bin/python || $(PYTHON) -m venv .venv-export
	.venv-export/bin/pip install --quiet -r tools/requirements-export.txt
	$(PY) tools/detector_calibration.py ../shared/data/dev/manifest.csv $(DETECTOR_CALIBRATION)
	.venv-export/bin/python tools/export_models.py --check --calibration $(DETECTOR_CALIBRATION)
	$(PY) tools/resnet_probe_features.py ../shared/data/dev/manifest.csv build/resnet-probe.npz
	.venv-export/bin/python tools/export_resnet.py --int8 --check --features build/resnet-probe.npz

RESNET_CHECKPOINT := .cache/model-src/laughter-detection/best.pth.tar

models-resnet: $(STAMP) ## rebuild and verify the conversational laughter ResNet (CPU torch in .venv-export-resnet; checkpoint in .cache/model-src, see tools/export_resnet.py)
	test -x .venv-export-resnet/bin/python || $(PYTHON) -m venv .venv-export-resnet
	.venv-export-resnet/bin/pip install --quiet -r tools/requirements-export-resnet.txt
	$(PY) tools/resnet_probe_features.py ../shared/data/dev/manifest.csv build/resnet-probe.npz
	.venv-export-resnet/bin/python tools/export_resnet.py --check --checkpoint $(RESNET_CHECKPOINT) --features build/resnet-probe.npz

EXTRA_AUDIO := build/extra-audio

$(EXTRA_AUDIO)/manifest.csv: tools/fetch_extra_audio.sh tools/extra_audio.sha256 server/laughter_train/reserved_sources.txt
	tools/fetch_extra_audio.sh $(EXTRA_AUDIO)

train-audio: $(STAMP) $(EXTRA_AUDIO)/manifest.csv ## retrain the audio model (1.4.0, laughter_train): ../shared/data/dev + Debian extra clips
	OMP_NUM_THREADS=1 $(VENV)/bin/laughter-train audio --data ../shared/data/dev/manifest.csv --data $(EXTRA_AUDIO)/manifest.csv --out server/laughter_server/models/audio --version 1.4.0 --estimator guarded_boosting

EVAL_DATA ?= ../shared/data/dev/manifest.csv
EVAL_OUT ?= build/eval
EVAL_ARGS ?= --cross-validate

eval: $(STAMP) ## accuracy report on EVAL_DATA (dev set): clip, event, over-speech, level, face stills -> build/eval/report.{json,md}
	mkdir -p $(EVAL_OUT)
	$(PY) tools/eval_faces.py --manifest $(EVAL_DATA) --no-videos --json $(EVAL_OUT)/faces.json > /dev/null
	OMP_NUM_THREADS=1 $(VENV)/bin/laughter-eval report --data $(EVAL_DATA) --out $(EVAL_OUT) \
		--section faces=$(EVAL_OUT)/faces.json $(EVAL_ARGS)

run: $(STAMP) ## run the server with the embedded local Triton (Ctrl-C stops both)
	$(VENV)/bin/laughter-server

demo: $(STAMP) web ## start local Triton + server (page on WEB_LISTEN), analyse the bundled sample, print events and summary
	$(PY) tools/demo.py $(SAMPLE) --web-listen $(WEB_LISTEN)

test: $(STAMP) node_modules/.bin/buf web-deps postgres redis deploy-tools ## unit and integration tests (real Triton, real server on loopback, PostgreSQL, Redis, Chromium for the page)
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP) node_modules/.bin/buf ## unit tests only
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

screenshots: $(STAMP) web-deps ## take the web page's screenshots into docs/images (the page tests, real servers)
	LAUGHTER_SCREENSHOTS=$(abspath docs/images) $(PY) -m pytest tests/integration/test_web_page.py $(PYTEST_ARGS)

test-integration: $(STAMP) redis ## integration tests only
	$(PY) -m pytest -m integration $(PYTEST_ARGS)

FUZZ_SECONDS ?= 600

fuzz: $(STAMP) ## long fuzzing outside CI: the Hypothesis suite with many examples, then atheris over the decoders
	$(PY) -m pip install --quiet -e ".[fuzz]"
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/fuzz --timeout=0 $(PYTEST_ARGS)
	$(PY) tools/fuzz_decoders.py -max_total_time=$(FUZZ_SECONDS)

bench: $(STAMP) web-deps redis ## benchmarks: audio detector speed; whole-file RTF/stages/faces/memory; live streams; batch; Celery batch jobs; unary load (1 and 2 servers); page vs SDK live latency; 4 h live session; soak
	$(PY) bench/bench_audio.py
	$(PY) bench/bench_frame_check.py
	$(PY) bench/bench_triton.py --seconds 2
	$(PY) bench/bench_whole_file.py
	$(PY) bench/bench_streaming.py
	$(PY) bench/bench_streaming.py --workers 1,2 --seconds 15
	$(PY) bench/bench_batch.py --files 15
	$(PY) bench/bench_celery.py
	$(PY) bench/bench_unary_load.py --concurrency 4 --requests 20 --servers 1,2
	$(PY) bench/bench_web.py
	$(PY) bench/bench_long_session.py --hours 4
	$(PY) bench/bench_soak.py --duration-s 120

bench-gpu: $(STAMP) ## Triton throughput on an NVIDIA GPU (configs/gpu.pbtxt): batch sizes 1-64, executed batch, queue delays
	bash bench/gpu.sh

clean: ## remove caches and build output (keeps .venv)
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist bench/out $(WEB)/dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
