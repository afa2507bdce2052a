"""Export the conversational laughter ResNet (jrgillick/laughter-detection, MIT) to the Triton model repository.

Run with its own export environment (CPU torch; see tools/requirements-export-resnet.txt)::

    python3.11 -m venv .venv-export-resnet
    .venv-export-resnet/bin/pip install -r tools/requirements-export-resnet.txt
    .venv-export-resnet/bin/python tools/export_resnet.py           # write model_repository/laughter_resnet/1/model.onnx
    .venv-export-resnet/bin/python tools/export_resnet.py --check   # rebuild into a temp dir and verify

``--int8 --features FILE.npz`` writes version 2, the static int8 quantization of version 1 calibrated on
those windows (``quantize_static_qdq`` of ``tools/export_models.py``; the first convolution, over the raw
log-mel input, and the pooled head stay float32). It needs onnx and onnxruntime only, not torch: ``make
models`` runs it with ``--check`` in the face models' export venv.

The checkpoint is ``checkpoints/comparisons/resnet_without_augmentation/best.pth.tar`` of the public
repository at the commit pinned below (``SOURCE``); put it at ``.cache/model-src/laughter-detection/best.pth.tar``
(for instance ``git show COMMIT:checkpoints/comparisons/resnet_without_augmentation/best.pth.tar`` in a clone).
Its sha256 is checked before torch reads it. The network definition below is ``ResNetBigger`` of the
repository's ``models.py`` (config ``resnet_base``: filters 64/32/16/16, linear layer 64), reproduced
so that the state dict loads key for key; dropout is inactive in evaluation mode.

``--features FILE.npz`` (array ``features``, float32 ``[N, 44, 128]``, written by
``tools/resnet_probe_features.py`` from dev clips with the server's front end) compares the ONNX
outputs with PyTorch on real windows; without it, fixed random log-mel windows are used.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR = REPO_ROOT / "model_repository" / "laughter_resnet"
DEFAULT_CHECKPOINT = REPO_ROOT / ".cache" / "model-src" / "laughter-detection" / "best.pth.tar"
ONNX_OPSET = 17
CHECK_TOLERANCE = 1e-5
INT8_VERSION = "2"
INT8_FLOAT_NODES = (
    "/conv1/Conv",
    "/pool/AveragePool",
    "/Reshape",
    "/bn2/BatchNormalization",
    "/linear1/Gemm",
    "/bn3/BatchNormalization",
    "/Relu_1",
    "/linear2/Gemm",
    "/Sigmoid",
)
"""Nodes the int8 version keeps in float32: the first convolution (quantizing the raw dB input too gained
little speed and raised the error on the probe windows from 0.017 to 0.028) and the pooled head."""
WINDOW_FRAMES = 44
MEL_BANDS = 128


@dataclasses.dataclass(frozen=True)
class CheckpointSource:
    """A file of a public repository at a pinned commit."""

    repository: str
    commit: str
    path: str
    sha256: str
    license: str
    training_data: str


SOURCE = CheckpointSource(
    repository="https://github.com/jrgillick/laughter-detection",
    commit="5d5e0327916959d832d95ffbef5f484efc93d799",
    path="checkpoints/comparisons/resnet_without_augmentation/best.pth.tar",
    sha256="5794e61df154bdb37ce705024a142637f8696de5620b6c2c4a643e02df69e271",
    license="MIT (LICENSE of the repository: Copyright (c) 2018 jrgillick)",
    training_data="Switchboard-1 (LDC97S62) telephone conversations, laughter annotated from the MS-98 "
    "transcriptions; no augmentation (Gillick et al., 'Robust Laughter Detection in Noisy Environments', "
    "Interspeech 2021)",
)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_network() -> Any:
    """``ResNetBigger(dropout_rate=0.0, linear_layer_size=64, filter_sizes=[64, 32, 16, 16])``."""
    import torch
    from torch import nn

    class ResidualBlock(nn.Module):  # type: ignore[misc]
        def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(in_channels, out_channels, (3, 3), stride=stride, padding=1, bias=True)
            self.bn1 = nn.BatchNorm2d(out_channels)
            self.conv2 = nn.Conv2d(out_channels, out_channels, (3, 3), stride=1, padding=1, bias=True)
            self.bn2 = nn.BatchNorm2d(out_channels)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_channels != out_channels:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, (1, 1), stride=stride, bias=False),
                    nn.BatchNorm2d(out_channels),
                )

        def forward(self, x: Any) -> Any:
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out = out + self.shortcut(x)
            return torch.relu(out)

    class ResNetBigger(nn.Module):  # type: ignore[misc]
        def __init__(
            self, linear_layer_size: int = 64, filter_sizes: tuple[int, ...] = (64, 32, 16, 16)
        ) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(1, 64, (3, 3), stride=1, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.block1 = self._block(64, filter_sizes[0], 1)
            self.block2 = self._block(filter_sizes[0], filter_sizes[1], 2)
            self.block3 = self._block(filter_sizes[1], filter_sizes[2], 2)
            self.block4 = self._block(filter_sizes[2], filter_sizes[3], 2)
            self.bn2 = nn.BatchNorm1d(linear_layer_size)
            self.bn3 = nn.BatchNorm1d(32)
            self.linear1 = nn.Linear(linear_layer_size, 32)
            self.linear2 = nn.Linear(32, 1)
            self.pool = nn.AvgPool2d(4)

        @staticmethod
        def _block(in_channels: int, out_channels: int, stride: int) -> Any:
            return nn.Sequential(
                ResidualBlock(in_channels, out_channels, stride), ResidualBlock(out_channels, out_channels, 1)
            )

        def forward(self, melspec: Any) -> Any:
            out = torch.relu(self.bn1(self.conv1(melspec.unsqueeze(1))))
            out = self.block4(self.block3(self.block2(self.block1(out))))
            out = self.pool(out)
            out = out.reshape(out.shape[0], -1)
            out = torch.relu(self.bn3(self.linear1(self.bn2(out))))
            return torch.sigmoid(self.linear2(out))

    return ResNetBigger()


def load_network(checkpoint: Path) -> Any:
    """The network with the checkpoint's weights, in evaluation mode; the checkpoint's sha256 is checked first."""
    import torch

    if not checkpoint.is_file():
        raise SystemExit(
            f"checkpoint missing: {checkpoint}\nget {SOURCE.path} of {SOURCE.repository} at commit "
            f"{SOURCE.commit} and put it there"
        )
    found = sha256_file(checkpoint)
    if found != SOURCE.sha256:
        raise SystemExit(f"checkpoint sha256 {found} != pinned {SOURCE.sha256}: not the pinned file")
    # the checkpoint also holds numpy scalars (epoch counters, best validation loss): allow just those
    allowed: list[Any] = [
        (np._core.multiarray.scalar, "numpy.core.multiarray.scalar"),
        np.dtype,
        type(np.dtype(np.float64)),
        type(np.dtype(np.int64)),
    ]
    with torch.serialization.safe_globals(allowed):
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)["state_dict"]
    network = build_network()
    network.load_state_dict(state, strict=True)
    network.eval()
    return network


def export(network: Any, out_path: Path) -> None:
    """ONNX graph: input ``melspec`` FP32 ``[B, 44, 128]`` (frames x mel bands, dB), output ``probability`` ``[B, 1]``."""
    import torch

    out_path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(2, WINDOW_FRAMES, MEL_BANDS)
    torch.onnx.export(
        network,
        (example,),
        str(out_path),
        input_names=["melspec"],
        output_names=["probability"],
        dynamic_axes={"melspec": {0: "batch"}, "probability": {0: "batch"}},
        opset_version=ONNX_OPSET,
        do_constant_folding=True,
        dynamo=False,
    )
    import onnx

    model = onnx.load(str(out_path))
    onnx.checker.check_model(model)


def probe_windows(features_file: Path | None) -> tuple[npt.NDArray[np.float32], str]:
    """Windows to compare the two runtimes on: real dev-clip windows when given, else fixed random ones."""
    if features_file is not None:
        with np.load(features_file) as data:
            return data["features"].astype(np.float32), f"{len(data['features'])} dev-clip windows"
    rng = np.random.default_rng(20240601)
    windows = rng.uniform(-80.0, 0.0, (16, WINDOW_FRAMES, MEL_BANDS)).astype(np.float32)
    return windows, "16 random log-mel windows"


def compare(network: Any, onnx_path: Path, windows: npt.NDArray[np.float32]) -> float:
    """Largest absolute difference between PyTorch and onnxruntime probabilities."""
    import onnxruntime as ort
    import torch

    with torch.no_grad():
        reference = network(torch.from_numpy(windows)).numpy()
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    got = session.run(["probability"], {"melspec": windows})[0]
    return float(np.max(np.abs(reference - got)))


def tool_versions() -> dict[str, str]:
    import onnx
    import onnxruntime
    import torch

    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "onnx": onnx.__version__,
        "onnxruntime (verification only)": onnxruntime.__version__,
    }


def write_provenance(model_dir: Path, measured: dict[str, Any]) -> None:
    produced = sha256_file(model_dir / "1" / "model.onnx")
    lines = [
        "# Provenance of `laughter_resnet/1/model.onnx`",
        "",
        "Generated by `tools/export_resnet.py`; do not edit by hand.",
        "",
        "| field | value |",
        "| --- | --- |",
        f"| source repository | {SOURCE.repository} |",
        f"| commit | `{SOURCE.commit}` |",
        f"| path in the repository | `{SOURCE.path}` |",
        f"| sha256 of that file | `{SOURCE.sha256}` |",
        f"| license | {SOURCE.license} |",
        f"| training data | {SOURCE.training_data} |",
        "| network | `ResNetBigger` of the repository's `models.py`, config `resnet_base` (filters 64/32/16/16, "
        "linear layer 64), 221,761 trainable parameters |",
        "| produced file | `laughter_resnet/1/model.onnx` |",
        f"| produced sha256 | `{produced}` |",
        "| interface | input `melspec` FP32 `[B, 44, 128]`: 44 frames x 128 mel bands of one 1 s window at 8 kHz "
        "(n_fft 2048, hop 186, power mel spectrogram in dB relative to the window's maximum, floor -80 dB; "
        "computed in the server by `laughter_server.audio.resnet_frontend`); output `probability` FP32 "
        "`[B, 1]` (sigmoid, laughter). |",
        "| reproducibility | `--check` rebuilds into a temp dir; it compares the bytes, then (if they differ) "
        f"the outputs within {CHECK_TOLERANCE:g} on the probe windows. |",
        "",
        "## Export steps",
        "",
        "1. The checkpoint's sha256 is checked; `torch.load(..., weights_only=True)['state_dict']` is loaded "
        "into `ResNetBigger` with `strict=True`, evaluation mode (batch norm uses its running statistics, "
        "dropout off).",
        "2. A leading `unsqueeze(1)` adds the channel axis inside the graph (the original collate function's "
        "`expand_channel_dim`).",
        f"3. `torch.onnx.export(..., opset_version={ONNX_OPSET})` with a dynamic batch axis; "
        "`onnx.checker.check_model`.",
        "4. onnxruntime outputs are compared with PyTorch's on the probe windows.",
        "",
        "## Measured at export",
        "",
        *[f"- {key}: {value}" for key, value in measured.items()],
        "",
        "## Tool versions",
        "",
        *[f"- {tool}: {version}" for tool, version in tool_versions().items()],
        "",
    ]
    provenance = model_dir / "PROVENANCE.md"
    existing = provenance.read_text() if provenance.is_file() else ""
    int8_section = "\n## Version " + INT8_VERSION + ": int8\n"  # written by --int8: kept as it is
    kept = existing[existing.index(int8_section) :] if int8_section in existing else ""
    provenance.write_text("\n".join(lines) + kept)


def update_checksums(repository: Path, relative: str) -> None:
    """Add or replace this model's line in model_repository/SHA256SUMS."""
    sums = repository / "SHA256SUMS"
    entries = {}
    for line in sums.read_text().splitlines():
        if line.strip():
            digest, path = line.split(maxsplit=1)
            entries[path.strip()] = digest
    entries[relative] = sha256_file(repository / relative)
    sums.write_text("".join(f"{digest}  {path}\n" for path, digest in sorted(entries.items())))


def run_probabilities(onnx_path: Path, windows: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The model's probabilities for ``windows`` with onnxruntime on the CPU."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    out: npt.NDArray[np.float32] = session.run(["probability"], {"melspec": windows})[0].reshape(-1)
    return out


def quantize(fp32_path: Path, windows: npt.NDArray[np.float32], out_path: Path) -> dict[str, str]:
    """Version 2 from version 1: calibrated on ``windows`` (one per run), compared with version 1 on them."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from export_models import quantize_static_qdq

    feeds = [{"melspec": window[None]} for window in windows]
    quantize_static_qdq(fp32_path, feeds, out_path, exclude=INT8_FLOAT_NODES)
    diff = np.abs(run_probabilities(fp32_path, windows) - run_probabilities(out_path, windows))
    return {
        "calibration_windows": str(len(windows)),
        "probability_mean_abs_diff_vs_fp32": f"{float(np.mean(diff)):.3g}",
        "probability_max_abs_diff_vs_fp32": f"{float(np.max(diff)):.3g}",
    }


def int8_main(args: argparse.Namespace) -> int:
    """``--int8``: write version 2 (or, with ``--check``, rebuild it into a temp dir and compare the bytes)."""
    if args.features is None or not args.features.is_file():
        sys.stderr.write(
            "--int8 needs --features FILE.npz (the calibration windows): write it with `.venv/bin/python "
            "tools/resnet_probe_features.py ../shared/data/dev/manifest.csv build/resnet-probe.npz`\n"
        )
        return 2
    windows, _ = probe_windows(args.features)
    fp32_path = MODEL_DIR / "1" / "model.onnx"
    committed = MODEL_DIR / INT8_VERSION / "model.onnx"
    if args.check:
        with tempfile.TemporaryDirectory(prefix="resnet-int8-check-") as tmp:
            rebuilt = Path(tmp) / "model.onnx"
            quantize(fp32_path, windows, rebuilt)
            same = sha256_file(rebuilt) == sha256_file(committed)
            diff = float(
                np.max(np.abs(run_probabilities(rebuilt, windows) - run_probabilities(committed, windows)))
            )
        if same:
            print(
                f"OK   laughter_resnet/{INT8_VERSION}/model.onnx: rebuilt bytes identical ({sha256_file(committed)})"
            )
            return 0
        status = "OK  " if diff <= CHECK_TOLERANCE else "FAIL"
        print(f"{status} laughter_resnet/{INT8_VERSION}/model.onnx: bytes differ; max abs diff {diff:.3g}")
        return 0 if diff <= CHECK_TOLERANCE else 1
    measured = quantize(fp32_path, windows, committed)
    link = committed.parent / "model.py"
    if not link.is_symlink():
        link.symlink_to("../1/model.py")
    write_int8_provenance(MODEL_DIR, measured)
    update_checksums(MODEL_DIR.parent, f"laughter_resnet/{INT8_VERSION}/model.onnx")
    print(json.dumps({"sha256": sha256_file(committed), **measured}))
    return 0


def write_int8_provenance(model_dir: Path, measured: dict[str, str]) -> None:
    """Replace the int8 section of PROVENANCE.md (appended after version 1's)."""
    provenance = model_dir / "PROVENANCE.md"
    heading = f"## Version {INT8_VERSION}: int8"
    text = provenance.read_text()
    text = text.split("\n" + heading + "\n")[0].rstrip("\n") + "\n"
    import onnx
    import onnxruntime

    lines = [
        "",
        heading,
        "",
        "| field | value |",
        "| --- | --- |",
        "| produced from | `laughter_resnet/1/model.onnx` (above) |",
        "| calibration | `build/resnet-probe.npz`, written by `tools/resnet_probe_features.py` from the first two "
        "dev clips of laughter, speech, music, scream and cheering with the server's front end |",
        f"| produced sha256 | `{sha256_file(model_dir / INT8_VERSION / 'model.onnx')}` |",
        "| interface | as version 1 |",
        "| reproducibility | bit-reproducible from the same windows with the pinned onnx and onnxruntime (MinMax "
        "calibration is deterministic); `tools/export_resnet.py --int8 --check` rebuilds and compares. |",
        "",
        "### Steps",
        "",
        "1. `onnxruntime.quantization.shape_inference.quant_pre_process(..., skip_symbolic_shape=True)`.",
        "2. `quantize_static(..., quant_format=QDQ, per_channel=True, activation_type=QUInt8, weight_type=QInt8, "
        "calibrate_method=MinMax)` over the calibration windows, one per run, with these nodes kept in float32: "
        + ", ".join(f"`{node}`" for node in INT8_FLOAT_NODES)
        + ".",
        "3. `onnx.checker.check_model`; the probabilities are compared with version 1 on the calibration windows.",
        "",
        "### Measured at export",
        "",
        *[f"- {key}: {value}" for key, value in measured.items()],
        f"- onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}, numpy {np.__version__}",
        "",
    ]
    provenance.write_text(text + "\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="rebuild into a temp dir and verify the committed file"
    )
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--features", type=Path, default=None, help="npz of real windows to compare on")
    parser.add_argument(
        "--int8", action="store_true", help="write (or --check) version 2, the int8 quantization of version 1"
    )
    args = parser.parse_args(argv)
    if args.int8:
        return int8_main(args)
    network = load_network(args.checkpoint)
    windows, described = probe_windows(args.features)
    if args.check:
        committed = MODEL_DIR / "1" / "model.onnx"
        with tempfile.TemporaryDirectory(prefix="resnet-check-") as tmp:
            rebuilt = Path(tmp) / "model.onnx"
            export(network, rebuilt)
            if sha256_file(rebuilt) == sha256_file(committed):
                print(
                    f"OK   laughter_resnet/1/model.onnx: rebuilt bytes identical ({sha256_file(committed)})"
                )
                return 0
        diff = compare(network, committed, windows)
        status = "OK  " if diff <= CHECK_TOLERANCE else "FAIL"
        print(
            f"{status} laughter_resnet/1/model.onnx: bytes differ; max abs diff vs PyTorch {diff:.3g} ({described})"
        )
        return 0 if diff <= CHECK_TOLERANCE else 1
    onnx_path = MODEL_DIR / "1" / "model.onnx"
    export(network, onnx_path)
    diff = compare(network, onnx_path, windows)
    measured = {"max_abs_diff_vs_pytorch": f"{diff:.3g} ({described})"}
    if args.features is not None:
        random_diff = compare(network, onnx_path, probe_windows(None)[0])
        measured["max_abs_diff_vs_pytorch_random"] = f"{random_diff:.3g} (16 random log-mel windows)"
    write_provenance(MODEL_DIR, measured)
    update_checksums(MODEL_DIR.parent, "laughter_resnet/1/model.onnx")
    print(json.dumps({"sha256": sha256_file(onnx_path), **measured}))
    return 0 if diff <= CHECK_TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
