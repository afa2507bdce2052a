"""Settings: one frozen dataclass, overridden by ``LAUGHTER_<FIELD>`` environment variables, then by flags.

Nothing else in the server reads the environment: ``load_settings`` runs once in ``cli.py`` and the result
is passed down explicitly.
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

from laughter_server.api.tokens import load_tokens
from laughter_server.errors import InvalidOptionError
from laughter_server.pipeline.model_split import parse_split

ENV_PREFIX = "LAUGHTER_"
PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent
DEFAULT_MODEL_REPOSITORY = REPO_DIR / "model_repository"
DEFAULT_WEB_STATIC_DIR = REPO_DIR / "clients" / "web" / "dist"
DEFAULT_AUDIO_MODEL = PACKAGE_DIR / "models" / "audio" / "laughter-audio-1.4.0.skops"
DEFAULT_FACE_MODELS_DIR = PACKAGE_DIR / "models" / "face"


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every knob of the server, with its default. Field docs are the ``--help`` texts."""

    listen: str = dataclasses.field(
        default="127.0.0.1:50051", metadata={"help": "host:port the gRPC server listens on"}
    )
    workers: int = dataclasses.field(
        default=0,
        metadata={
            "help": "server processes sharing the listen port (SO_REUSEPORT) and one Triton; 0 uses the "
            "number of cores, 1 runs a single process"
        },
    )
    triton_url: str = dataclasses.field(
        default="",
        metadata={"help": "gRPC host:port of an external Triton; empty starts the embedded local Triton"},
    )
    model_repository: str = dataclasses.field(
        default=str(DEFAULT_MODEL_REPOSITORY),
        metadata={"help": "Triton model repository for the local Triton"},
    )
    triton_model_config_name: str = dataclasses.field(
        default="",
        metadata={
            "help": "Triton --model-config-name ('gpu', or 'int8': the int8 face detector on CPU, about half "
            "the detector's CPU time, and the int8 ResNet that laughter-audio 1.5.1 needs); empty uses "
            "config.pbtxt"
        },
    )
    triton_startup_timeout_s: float = dataclasses.field(
        default=90.0, metadata={"help": "seconds to wait for the local Triton to become ready"}
    )
    inference_timeout_s: float = dataclasses.field(
        default=30.0, metadata={"help": "deadline of one Triton request"}
    )
    audio_model: str = dataclasses.field(
        default=str(DEFAULT_AUDIO_MODEL), metadata={"help": "path of the audio laughter model (.skops)"}
    )
    face_emotion_version: str = dataclasses.field(
        default="",
        metadata={
            "help": "face emotion version: 1 (mini-Xception), 2 (face-api expression net) or a trained head "
            "in --face-models-dir; empty uses the default (2)"
        },
    )
    face_models_dir: str = dataclasses.field(
        default=str(DEFAULT_FACE_MODELS_DIR),
        metadata={
            "help": "folder of trained face heads (face_emotion-VERSION.json, from laughter-train faces)"
        },
    )
    max_message_bytes: int = dataclasses.field(
        default=64 * 1024 * 1024, metadata={"help": "largest gRPC message accepted or sent"}
    )
    max_upload_bytes: int = dataclasses.field(
        default=512 * 1024 * 1024,
        metadata={"help": "largest file accepted by AnalyzeMediaUpload (sent in pieces)"},
    )
    tls_cert_file: str = dataclasses.field(
        default="",
        metadata={"help": "PEM certificate chain: serve TLS instead of plaintext (with --tls-key-file)"},
    )
    tls_key_file: str = dataclasses.field(default="", metadata={"help": "PEM private key of --tls-cert-file"})
    tls_client_ca_file: str = dataclasses.field(
        default="", metadata={"help": "PEM CA bundle: require client certificates signed by it (mutual TLS)"}
    )
    auth_token: str = dataclasses.field(
        default="",
        metadata={
            "help": "require 'authorization: Bearer <token>' on API calls (health/reflection stay open); "
            "prefer --auth-token-file (or the LAUGHTER_AUTH_TOKEN variable): a flag shows in the process list"
        },
    )
    auth_token_file: str = dataclasses.field(
        default="",
        metadata={
            "help": "file holding the access token (keeps it out of the process list); instead of --auth-token"
        },
    )
    auth_tenants_file: str = dataclasses.field(
        default="",
        metadata={
            "help": "file of 'tenant_name:token' lines, one per accepted token ('#' comments allowed; mode 0600); "
            "instead of --auth-token"
        },
    )
    max_media_duration_s: float = dataclasses.field(
        default=3600.0, metadata={"help": "longest media accepted by whole-file analysis"}
    )
    max_frame_pixels: int = dataclasses.field(
        default=3840 * 2160, metadata={"help": "largest video frame (width x height) accepted"}
    )
    default_frame_rate_hertz: float = dataclasses.field(
        default=5.0, metadata={"help": "frames analysed per second when a request does not say"}
    )
    max_frame_rate_hertz: float = dataclasses.field(
        default=30.0, metadata={"help": "highest analysis frame rate a request may ask for"}
    )
    max_concurrent_analyses: int = dataclasses.field(
        default=4, metadata={"help": "whole-file analyses run at once; more wait in line"}
    )
    detector_batch_size: int = dataclasses.field(
        default=16, metadata={"help": "frames per face-detection request to Triton"}
    )
    detect_every: int = dataclasses.field(
        default=1,
        metadata={
            "help": "run the face detector on every Nth analysed frame (and on scene cuts and lost tracks), "
            "carrying face boxes by optical flow in between; 1 detects on every frame"
        },
    )
    emotion_batch_size: int = dataclasses.field(
        default=64, metadata={"help": "face crops per emotion request to Triton"}
    )
    max_sessions: int = dataclasses.field(default=64, metadata={"help": "live sessions open at once"})
    session_idle_timeout_s: float = dataclasses.field(
        default=30.0, metadata={"help": "a live session with no media for this long ends with its summary"}
    )
    session_max_duration_s: float = dataclasses.field(
        default=4 * 3600.0, metadata={"help": "longest a live session may last (wall clock)"}
    )
    session_max_timestamp_jump_s: float = dataclasses.field(
        default=10.0,
        metadata={
            "help": "a live chunk whose capture offset lies more than this beyond the newest media received "
            "is dropped with a TIMESTAMP_NOT_MONOTONIC warning (work stays bounded by the media received)"
        },
    )
    session_max_queued_updates: int = dataclasses.field(
        default=512,
        metadata={
            "help": "updates a live session holds for a client that reads slowly; beyond, face samples are "
            "skipped (counted in laughter_face_samples_skipped_total); progress and ongoing updates coalesce"
        },
    )
    max_event_duration_s: float = dataclasses.field(
        default=300.0,
        metadata={
            "help": "a laughter event that lasts this long is ended there (notice EVENT_SPLIT) and laughter "
            "that goes on starts a new event; bounds the state an open event holds"
        },
    )
    session_backlog_frames: int = dataclasses.field(
        default=8, metadata={"help": "frames a live session may have waiting; beyond, the oldest is dropped"}
    )
    max_chunk_bytes: int = dataclasses.field(
        default=8 * 1024 * 1024, metadata={"help": "largest single frame or audio chunk in a live session"}
    )
    cross_stream_batching: str = dataclasses.field(
        default="on",
        metadata={"help": "on: merge face-model calls of all live sessions; off: one call per session"},
    )
    batch_delay_ms: float = dataclasses.field(
        default=10.0,
        metadata={"help": "longest a frame waits for others to share its Triton call (batching on)"},
    )
    metrics_port: int = dataclasses.field(
        default=9464, metadata={"help": "Prometheus /metrics port on the listen host; 0 disables"}
    )
    log_format: str = dataclasses.field(
        default="auto", metadata={"help": "auto (console on a terminal, else json), json or console"}
    )
    log_level: str = dataclasses.field(default="info", metadata={"help": "debug, info, warning or error"})
    audio_model_split: str = dataclasses.field(
        default="",
        metadata={
            "help": "A/B test of audio model versions, e.g. 1.4.0=90,1.1.0=10 (shipped versions next to "
            "--audio-model; percents sum to 100): each analysis or session gets one by a stable hash of its id"
        },
    )
    audio_model_shadow: str = dataclasses.field(
        default="",
        metadata={
            "help": "shadow mode: a candidate audio model version (e.g. 1.1.0) also scores each whole file's "
            "audio in the background, one file at a time, stored as a shadow result; the reply is unaffected"
        },
    )
    data_dir: str = dataclasses.field(
        default="data",
        metadata={"help": "folder of the SQLite results store and of writes kept over a shutdown"},
    )
    database_url: str = dataclasses.field(
        default="",
        metadata={
            "help": "results store: postgresql://user:password@host:port/db (prefer LAUGHTER_DATABASE_URL: "
            "a flag shows in the process list); empty uses SQLite under --data-dir"
        },
    )
    retention_days: float = dataclasses.field(
        default=0.0, metadata={"help": "stored results older than this are deleted; 0 keeps them"}
    )
    store_queue_size: int = dataclasses.field(
        default=10_000, metadata={"help": "results waiting to be written when the store is slow or down"}
    )
    shutdown_grace_s: float = dataclasses.field(
        default=10.0, metadata={"help": "seconds open calls get to finish on SIGTERM"}
    )
    web_listen: str = dataclasses.field(
        default="",
        metadata={"help": "host:port for the browser page and its gRPC-Web API; empty turns it off"},
    )
    web_static_dir: str = dataclasses.field(
        default=str(DEFAULT_WEB_STATIC_DIR),
        metadata={"help": "folder of the built page served on --web-listen (make web builds it)"},
    )
    web_allowed_origins: str = dataclasses.field(
        default="",
        metadata={
            "help": "comma-separated origins allowed to call the gRPC-Web API cross-origin ('*' for any)"
        },
    )

    def validate(self) -> Settings:
        """Check ranges at start-up; raise InvalidOptionError naming the setting and the fix."""
        positive = (
            "triton_startup_timeout_s",
            "inference_timeout_s",
            "max_message_bytes",
            "max_media_duration_s",
            "max_frame_pixels",
            "default_frame_rate_hertz",
            "max_frame_rate_hertz",
            "max_concurrent_analyses",
            "detector_batch_size",
            "detect_every",
            "emotion_batch_size",
            "max_sessions",
            "session_idle_timeout_s",
            "session_max_duration_s",
            "session_backlog_frames",
            "max_chunk_bytes",
            "max_upload_bytes",
            "session_max_timestamp_jump_s",
            "session_max_queued_updates",
            "store_queue_size",
        )
        for name in positive:
            if not getattr(self, name) > 0:  # also rejects NaN
                raise InvalidOptionError(name, f"{name} must be > 0 (got {getattr(self, name)!r})")
        if self.default_frame_rate_hertz > self.max_frame_rate_hertz:
            raise InvalidOptionError(
                "default_frame_rate_hertz", "default_frame_rate_hertz must not exceed max_frame_rate_hertz"
            )
        if not 1.0 <= self.max_event_duration_s <= 86_400.0:
            raise InvalidOptionError(
                "max_event_duration_s", "max_event_duration_s must be in [1, 86400] seconds"
            )
        if self.cross_stream_batching not in ("on", "off"):
            raise InvalidOptionError("cross_stream_batching", "cross_stream_batching must be on or off")
        if not 0 <= self.batch_delay_ms <= 1000:
            raise InvalidOptionError("batch_delay_ms", "batch_delay_ms must be in [0, 1000]")
        if self.log_format not in ("auto", "json", "console"):
            raise InvalidOptionError("log_format", "log_format must be auto, json or console")
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise InvalidOptionError("log_level", "log_level must be debug, info, warning or error")
        if not self.triton_url and not pathlib.Path(self.model_repository).is_dir():
            raise InvalidOptionError(
                "model_repository", f"model repository {self.model_repository} is not a directory"
            )
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise InvalidOptionError("tls_cert_file", "TLS needs both --tls-cert-file and --tls-key-file")
        for name in ("tls_cert_file", "tls_key_file", "tls_client_ca_file"):
            path = getattr(self, name)
            if path and not pathlib.Path(path).is_file():
                raise InvalidOptionError(name, f"{name}: {path} is not a readable file")
        if self.tls_client_ca_file and not self.tls_cert_file:
            raise InvalidOptionError(
                "tls_client_ca_file", "client certificates need TLS: set --tls-cert-file too"
            )
        load_tokens(self.auth_token, self.auth_token_file, self.auth_tenants_file)
        if self.audio_model_split:
            parse_split(self.audio_model_split)
        if not 0 <= self.retention_days <= 36_500:
            raise InvalidOptionError(
                "retention_days", "retention_days must be in [0, 36500] (0 keeps results)"
            )
        if self.database_url and not self.database_url.startswith(
            ("postgresql://", "postgres://", "sqlite:")
        ):
            raise InvalidOptionError(
                "database_url",
                "database_url must start with postgresql:// (or sqlite:), or be empty for SQLite",
            )
        if ":" not in self.listen:
            raise InvalidOptionError("listen", "listen must be host:port, e.g. 127.0.0.1:50051")
        if not 0 <= self.workers <= 256:
            raise InvalidOptionError("workers", "workers must be in [0, 256] (0 uses the number of cores)")
        if self.web_listen and ":" not in self.web_listen:
            raise InvalidOptionError("web_listen", "web_listen must be host:port, e.g. 127.0.0.1:8080")
        return self

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict for the start-up log line, secrets masked."""
        values = dataclasses.asdict(self)
        if values["auth_token"]:
            values["auth_token"] = "***"
        if values["database_url"]:
            values["database_url"] = "***"
        return values


def _parse_value(field: dataclasses.Field[Any], raw: str) -> Any:
    kind = (
        field.type if isinstance(field.type, type) else {"int": int, "float": float, "str": str}[field.type]
    )
    try:
        return kind(raw)
    except ValueError:
        raise InvalidOptionError(
            field.name, f"{field.name}: cannot read {raw!r} as {kind.__name__}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """Flags mirror the Settings fields (``--max-message-bytes`` for ``max_message_bytes``)."""
    parser = argparse.ArgumentParser(
        prog="laughter-server",
        description="Laughter analysis gRPC server. Every flag can also be set as LAUGHTER_<NAME> "
        "(e.g. LAUGHTER_TRITON_URL); flags win over the environment.",
    )
    for field in dataclasses.fields(Settings):
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            dest=field.name,
            default=None,
            help=f"{field.metadata.get('help', '')} (default: {field.default!r})",
        )
    return parser


def load_settings(argv: Sequence[str] | None, environ: Mapping[str, str]) -> Settings:
    """Defaults, then ``LAUGHTER_*`` variables, then flags; validated."""
    args = build_parser().parse_args(argv)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        raw = getattr(args, field.name)
        if raw is None:
            raw = environ.get(ENV_PREFIX + field.name.upper())
        if raw is not None:
            values[field.name] = _parse_value(field, raw)
    return Settings(**values).validate()
