"""Port face-api's expression network (TFJS weights in the ``@vladmandic/face-api`` npm package) to ONNX.

The graph is rebuilt from face-api's source (``src/faceFeatureExtractor/FaceFeatureExtractor.ts``,
``denseBlock.ts``, ``src/faceProcessor/FaceProcessor.ts``, ``src/faceExpressionNet/FaceExpressionNet.ts``):
a 112x112 RGB crop minus the mean RGB (122.782, 117.001, 104.298), divided by 255; four dense blocks of
depthwise-separable 3x3 convolutions (32, 64, 128, 256 channels, each block halving the size; the first
block's first layer is a plain 3x3 convolution); a 7x7 average pool (the 256-value embedding); a fully
connected layer and a softmax over face-api's seven expressions. The weights manifest gives each tensor's
name, shape and uint8 quantization (value = min + scale * byte); the ``.bin`` holds them in manifest order.

The ONNX model takes uint8 RGB ``crops`` [B, 112, 112, 3] and returns ``probabilities`` [B, 7] in this
server's class order (angry, disgust, fear, happy, sad, surprise, neutral; face-api's own order is neutral,
happy, sad, angry, fearful, disgusted, surprised) and the ``embedding`` [B, 256] the classifier reads.

``reference_forward`` is an independent numpy forward pass of the same weights (TF "same" padding, NHWC),
the check the export is measured against.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

INPUT_SIDE_PX = 112
MEAN_RGB = (122.782, 117.001, 104.298)
FACEAPI_LABELS = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised")
SERVER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FACEAPI_TO_SERVER = {
    "angry": "angry",
    "disgusted": "disgust",
    "fearful": "fear",
    "happy": "happy",
    "sad": "sad",
    "surprised": "surprise",
    "neutral": "neutral",
}
REORDER = tuple(
    FACEAPI_LABELS.index(next(k for k, v in FACEAPI_TO_SERVER.items() if v == label))
    for label in SERVER_LABELS
)
"""Column of face-api's output for each of the server's classes."""
BLOCK_COUNT = 4
LAYERS_PER_BLOCK = 4


@dataclasses.dataclass(frozen=True)
class NpmSource:
    """Files inside a pinned npm package tarball."""

    package: str
    version: str
    tarball_name: str
    tarball_sha256: str
    weights_member: str
    manifest_member: str
    license: str
    project_url: str


FACEAPI_SOURCE = NpmSource(
    package="@vladmandic/face-api",
    version="1.7.15",
    tarball_name="vladmandic-face-api-1.7.15.tgz",
    tarball_sha256="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
    weights_member="package/model/face_expression_model.bin",
    manifest_member="package/model/face_expression_model-weights_manifest.json",
    license="MIT (package/LICENSE, Copyright (c) Vladimir Mandic)",
    project_url="https://www.npmjs.com/package/@vladmandic/face-api/v/1.7.15",
)


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of bytes."""
    return hashlib.sha256(data).hexdigest()


def fetch_tarball(source: NpmSource, cache_dir: Path) -> Path:
    """``npm pack`` the pinned version into cache_dir unless cached; verify its sha256."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / source.tarball_name
    if not path.exists():
        subprocess.run(
            ["npm", "pack", f"{source.package}@{source.version}", "--pack-destination", str(cache_dir)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    actual = sha256_bytes(path.read_bytes())
    if actual != source.tarball_sha256:
        raise SystemExit(f"sha256 mismatch for {path}: {actual} != {source.tarball_sha256}")
    return path


def extract_members(source: NpmSource, tarball: Path, dest_dir: Path) -> tuple[Path, Path]:
    """Extract the weights and their manifest; returns (bin path, manifest path)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with tarfile.open(tarball) as archive:
        for member in (source.weights_member, source.manifest_member):
            handle = archive.extractfile(member)
            if handle is None:
                raise SystemExit(f"{member} missing from {tarball}")
            target = dest_dir / Path(member).name
            target.write_bytes(handle.read())
            paths.append(target)
    return paths[0], paths[1]


def load_weights(bin_path: Path, manifest_path: Path) -> dict[str, npt.NDArray[np.float32]]:
    """Decode the TFJS weights: float32 tensors by name, uint8-quantized ones dequantized."""
    data = bin_path.read_bytes()
    entries = [w for group in json.loads(manifest_path.read_text()) for w in group["weights"]]
    weights: dict[str, npt.NDArray[np.float32]] = {}
    offset = 0
    for entry in entries:
        count = int(np.prod(entry["shape"]))
        quant = entry.get("quantization")
        if quant is None:
            values = np.frombuffer(data, dtype="<f4", count=count, offset=offset).astype(np.float32)
            offset += 4 * count
        else:
            if quant["dtype"] != "uint8":
                raise SystemExit(f"unsupported quantization {quant['dtype']} for {entry['name']}")
            raw = np.frombuffer(data, dtype=np.uint8, count=count, offset=offset)
            values = (raw.astype(np.float64) * quant["scale"] + quant["min"]).astype(np.float32)
            offset += count
        weights[entry["name"]] = values.reshape(entry["shape"])
    if offset != len(data):
        raise SystemExit(f"{bin_path}: read {offset} of {len(data)} bytes; manifest and weights disagree")
    return weights


# --- numpy reference (NHWC, TF semantics) -----------------------------------------------------------


def _pad_same(x: npt.NDArray[np.float64], stride: int) -> npt.NDArray[np.float64]:
    """TF 'same' padding for a 3x3 window: the odd pixel goes at the end (bottom/right)."""
    size = x.shape[1]
    out = -(-size // stride)
    total = max((out - 1) * stride + 3 - size, 0)
    before = total // 2
    return np.pad(x, ((0, 0), (before, total - before), (before, total - before), (0, 0)))


def _windows(x: npt.NDArray[np.float64], stride: int) -> npt.NDArray[np.float64]:
    """(B, H', W', 3, 3, C) 3x3 windows of the padded input."""
    padded = _pad_same(x, stride)
    out = -(-x.shape[1] // stride)
    view = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))  # B, h, w, C, 3, 3
    view = view[:, : (out - 1) * stride + 1 : stride, : (out - 1) * stride + 1 : stride]
    return np.moveaxis(view, 3, 5)


def _conv(x: npt.NDArray[np.float64], filters: npt.NDArray[Any], bias: npt.NDArray[Any], stride: int) -> Any:
    return np.einsum("bhwijc,ijco->bhwo", _windows(x, stride), filters) + bias


def _separable(x: npt.NDArray[np.float64], w: dict[str, npt.NDArray[Any]], prefix: str, stride: int) -> Any:
    depthwise = np.einsum("bhwijc,ijc->bhwc", _windows(x, stride), w[prefix + "depthwise_filter"][..., 0])
    return np.einsum("bhwc,co->bhwo", depthwise, w[prefix + "pointwise_filter"][0, 0]) + w[prefix + "bias"]


def reference_forward(
    weights: dict[str, npt.NDArray[np.float32]], crops: npt.NDArray[np.uint8]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Softmax probabilities in face-api's order (B, 7) and the embedding (B, 256), in float64."""
    x = (crops.astype(np.float64) - np.asarray(MEAN_RGB)) / 255.0
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    for block in range(BLOCK_COUNT):
        name = f"dense{block}/"
        if block == 0:
            out1 = relu(_conv(x, weights[name + "conv0/filters"], weights[name + "conv0/bias"], 2))
        else:
            out1 = relu(_separable(x, weights, name + "conv0/", 2))
        out2 = _separable(out1, weights, name + "conv1/", 1)
        out3 = _separable(relu(out1 + out2), weights, name + "conv2/", 1)
        out4 = _separable(relu(out1 + out2 + out3), weights, name + "conv3/", 1)
        x = relu(out1 + out2 + out3 + out4)
    embedding = x.mean(axis=(1, 2))
    logits = embedding @ weights["fc/weights"] + weights["fc/bias"]
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True), embedding


# --- ONNX graph ---------------------------------------------------------------------------------------


def build_onnx(weights: dict[str, npt.NDArray[np.float32]], opset: int) -> Any:
    """The expression network as an ONNX ModelProto (uint8 NHWC crops in, server-order probabilities out)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    initializers: list[Any] = []

    def const(name: str, value: npt.NDArray[Any]) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def conv(
        inp: str, out: str, w: npt.NDArray[Any], b: npt.NDArray[Any] | None, stride: int, group: int
    ) -> str:
        inputs = [inp, const(out + "_w", w)]
        if b is not None:
            inputs.append(const(out + "_b", b.astype(np.float32)))
        nodes.append(
            helper.make_node(
                "Conv",
                inputs,
                [out],
                kernel_shape=list(w.shape[2:]),
                strides=[stride, stride],
                auto_pad="SAME_UPPER",
                group=group,
            )
        )
        return out

    def separable(inp: str, prefix: str, stride: int) -> str:
        key = prefix.replace("_", "/")
        depthwise = weights[key + "depthwise_filter"]  # [3, 3, C, 1]
        channels = depthwise.shape[2]
        dw = conv(inp, prefix + "dw", depthwise.transpose(2, 3, 0, 1), None, stride, channels)
        pointwise = weights[key + "pointwise_filter"]  # [1, 1, C, O]
        return conv(dw, prefix + "pw", pointwise.transpose(3, 2, 0, 1), weights[key + "bias"], 1, 1)

    def add(a: str, b: str, out: str) -> str:
        nodes.append(helper.make_node("Add", [a, b], [out]))
        return out

    def relu(a: str, out: str) -> str:
        nodes.append(helper.make_node("Relu", [a], [out]))
        return out

    nodes.append(helper.make_node("Cast", ["crops"], ["crops_f"], to=TensorProto.FLOAT))
    mean = np.asarray(MEAN_RGB, dtype=np.float32).reshape(1, 1, 1, 3)
    nodes.append(helper.make_node("Sub", ["crops_f", const("mean_rgb", mean)], ["centred"]))
    nodes.append(
        helper.make_node("Mul", ["centred", const("inv_255", np.asarray(1 / 255, np.float32))], ["scaled"])
    )
    nodes.append(helper.make_node("Transpose", ["scaled"], ["x0"], perm=[0, 3, 1, 2]))
    x = "x0"
    for block in range(BLOCK_COUNT):
        p = f"dense{block}_"
        if block == 0:
            filters = weights["dense0/conv0/filters"].transpose(3, 2, 0, 1)
            first = conv(x, p + "conv0", filters, weights["dense0/conv0/bias"], 2, 1)
        else:
            first = separable(x, p + "conv0_", 2)
        out1 = relu(first, p + "out1")
        out2 = separable(out1, p + "conv1_", 1)
        s12 = add(out1, out2, p + "s12")
        out3 = separable(relu(s12, p + "in3"), p + "conv2_", 1)
        s123 = add(s12, out3, p + "s123")
        out4 = separable(relu(s123, p + "in4"), p + "conv3_", 1)
        x = relu(add(s123, out4, p + "s1234"), p + "out")
    nodes.append(helper.make_node("AveragePool", [x], ["pooled"], kernel_shape=[7, 7], strides=[2, 2]))
    nodes.append(helper.make_node("Flatten", ["pooled"], ["embedding"], axis=1))
    nodes.append(helper.make_node("MatMul", ["embedding", const("fc_w", weights["fc/weights"])], ["fc_mm"]))
    nodes.append(helper.make_node("Add", ["fc_mm", const("fc_b", weights["fc/bias"])], ["logits"]))
    nodes.append(helper.make_node("Softmax", ["logits"], ["faceapi_probabilities"], axis=1))
    order = const("server_order", np.asarray(REORDER, dtype=np.int64))
    nodes.append(helper.make_node("Gather", ["faceapi_probabilities", order], ["probabilities"], axis=1))
    graph = helper.make_graph(
        nodes,
        "face_expression",
        [
            helper.make_tensor_value_info(
                "crops", TensorProto.UINT8, ["batch", INPUT_SIDE_PX, INPUT_SIDE_PX, 3]
            )
        ],
        [
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 7]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 256]),
        ],
        initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnx.helper"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def make_probe_crops() -> npt.NDArray[np.uint8]:
    """Fixed uint8 RGB crops (3, 112, 112, 3): a bright ellipse on a gradient, plus seeded noise."""
    rng = np.random.default_rng(20240614)
    yy, xx = np.mgrid[0:INPUT_SIDE_PX, 0:INPUT_SIDE_PX].astype(np.float32)
    ellipse = (((xx - 56) / 36) ** 2 + ((yy - 58) / 46) ** 2 < 1.0) * 110.0
    base = (xx + yy) / 2.0 + ellipse
    noise = rng.integers(0, 48, size=(3, INPUT_SIDE_PX, INPUT_SIDE_PX, 3))
    return np.clip(base[None, :, :, None] + noise, 0, 255).astype(np.uint8)


def export_face_expression(
    bin_path: Path,
    manifest_path: Path,
    out_path: Path,
    opset: int,
    extra_crops: npt.NDArray[np.uint8] | None = None,
) -> dict[str, Any]:
    """Write the ONNX file and measure it against the numpy reference on the probe crops (and extra ones)."""
    import onnx
    import onnxruntime as ort

    weights = load_weights(bin_path, manifest_path)
    model = build_onnx(weights, opset)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out_path))
    crops = make_probe_crops() if extra_crops is None else np.concatenate([make_probe_crops(), extra_crops])
    session = ort.InferenceSession(str(out_path), providers=["CPUExecutionProvider"])
    probabilities, embedding = session.run(["probabilities", "embedding"], {"crops": crops})
    ref_probabilities, ref_embedding = reference_forward(weights, crops)
    return {
        "max_abs_diff_probabilities_vs_numpy": float(
            np.max(np.abs(probabilities - ref_probabilities[:, REORDER]))
        ),
        "max_abs_diff_embedding_vs_numpy": float(np.max(np.abs(embedding - ref_embedding))),
        "verified_crops": float(len(crops)),
    }
