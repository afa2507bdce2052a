"""Small keyword-only configuration objects: how to reach the server, and how to analyse media."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

from laughter._enums import AudioEncoding, BacklogPolicy, FrameEncoding
from laughter._retry import RetryPolicy
from laughter._targets import split_addresses

__all__ = ["DEFAULT_ADDRESS", "AnalysisOptions", "ClientOptions", "PemSource", "SessionOptions"]

DEFAULT_ADDRESS = "127.0.0.1:50051"
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024
DEFAULT_UPLOAD_THRESHOLD_BYTES = 4 * 1024 * 1024
DEFAULT_UPLOAD_CHUNK_BYTES = 1024 * 1024
ENV_PREFIX = "LAUGHTER_"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})

PemSource = bytes | str | os.PathLike[str]
"""PEM data as bytes, or the path of a PEM file."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClientOptions:
    """How a client reaches the server.

    ``timeout_s`` is the default deadline of every call, retries included (``None``: no deadline); a
    call's own ``timeout_s`` overrides it. ``auth_token`` is sent as ``authorization: Bearer …`` and
    ``metadata`` as extra gRPC metadata on every call. TLS is on when ``tls`` is true or any certificate
    is given; PEM values are bytes or file paths, read when the client is created.
    """

    address: str = DEFAULT_ADDRESS
    """``host:port`` of the server; several servers as ``"host1:port,host2:port"`` or one
    ``"dns:///name:port"`` whose records name them: calls are then spread with gRPC's ``round_robin``
    over the servers whose health status is SERVING."""
    timeout_s: float | None = DEFAULT_TIMEOUT_S
    """Default deadline of a call in seconds, all its attempts together; ``None``: no deadline."""
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    """Largest message sent or received."""
    auth_token: str | None = None
    """Bearer token, sent as ``authorization: Bearer <token>`` (use it with TLS off loopback)."""
    metadata: tuple[tuple[str, str], ...] = ()
    """Extra ``(key, value)`` pairs; keys must be lowercase ASCII."""
    tls: bool = False
    """Connect with TLS, trusting the system's roots unless ``root_certificates`` is given."""
    root_certificates: PemSource | None = None
    """CA certificates that sign the server's certificate (implies TLS)."""
    certificate_chain: PemSource | None = None
    """Client certificate for mutual TLS; needs ``private_key``."""
    private_key: PemSource | None = None
    """Private key of ``certificate_chain``."""
    server_name_override: str | None = None
    """Name checked against the server's certificate instead of the address's host (tests, tunnels)."""
    retry: RetryPolicy = dataclasses.field(default_factory=RetryPolicy)
    """Retries of idempotent calls; ``RetryPolicy.disabled()`` turns them off."""
    keepalive_time_s: float | None = 30.0
    """Interval of HTTP/2 keepalive pings while calls are open; ``None``: no pings."""
    keepalive_timeout_s: float = 10.0
    """How long a ping may go unanswered before the connection counts as broken."""
    keepalive_permit_without_calls: bool = False
    """Also ping while no call is open."""
    upload_threshold_bytes: int = DEFAULT_UPLOAD_THRESHOLD_BYTES
    """Files larger than this go through ``AnalyzeMediaUpload`` in pieces; smaller ones in one message."""
    upload_chunk_bytes: int = DEFAULT_UPLOAD_CHUNK_BYTES
    """Size of each piece of an upload, read from disk one at a time (at most half of ``max_message_bytes``)."""

    def __post_init__(self) -> None:
        split_addresses(self.address)
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive or None, got {self.timeout_s}")
        for name in ("max_message_bytes", "upload_chunk_bytes", "keepalive_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.upload_threshold_bytes < 0:
            raise ValueError(
                f"upload_threshold_bytes must not be negative, got {self.upload_threshold_bytes}"
            )
        if self.keepalive_time_s is not None and self.keepalive_time_s <= 0:
            raise ValueError(f"keepalive_time_s must be positive or None, got {self.keepalive_time_s}")
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError("certificate_chain and private_key must be given together (mutual TLS)")

    @property
    def is_secure(self) -> bool:
        """True when the channel uses TLS."""
        return self.tls or any(
            value is not None for value in (self.root_certificates, self.certificate_chain, self.private_key)
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> ClientOptions:
        """Options from ``LAUGHTER_ADDRESS`` (one or comma-separated ``host:port``), ``LAUGHTER_TIMEOUT_S``, ``LAUGHTER_AUTH_TOKEN``,
        ``LAUGHTER_TLS`` (1/true/yes/on), ``LAUGHTER_CA_FILE``, ``LAUGHTER_CERT_FILE`` and
        ``LAUGHTER_KEY_FILE``, then keyword ``overrides`` (``None`` values are ignored)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if env.get(ENV_PREFIX + "ADDRESS"):
            values["address"] = env[ENV_PREFIX + "ADDRESS"]
        if env.get(ENV_PREFIX + "TIMEOUT_S"):
            values["timeout_s"] = float(env[ENV_PREFIX + "TIMEOUT_S"])
        if env.get(ENV_PREFIX + "AUTH_TOKEN"):
            values["auth_token"] = env[ENV_PREFIX + "AUTH_TOKEN"]
        if env.get(ENV_PREFIX + "TLS"):
            values["tls"] = env[ENV_PREFIX + "TLS"].strip().lower() in TRUE_WORDS
        for name, field in (
            ("CA_FILE", "root_certificates"),
            ("CERT_FILE", "certificate_chain"),
            ("KEY_FILE", "private_key"),
        ):
            if env.get(ENV_PREFIX + name):
                values[field] = env[ENV_PREFIX + name]
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]


@dataclasses.dataclass(frozen=True, kw_only=True)
class AnalysisOptions:
    """How to analyse media. ``None`` and ``False`` leave the choice to the server's defaults (5 frames per
    second, threshold 0.5, minimum event 0.3 s, 8 faces); the server checks the ranges and rejects values
    outside them with :class:`~laughter.InvalidArgumentError` naming the field."""

    analysis_frame_rate_hertz: float | None = None
    """Video frames analysed per second of media, in (0, 30]."""
    disable_video: bool = False
    """Analyse audio only."""
    disable_audio: bool = False
    """Analyse faces only."""
    laughter_threshold: float | None = None
    """Fused laughter score that starts an event, in [0, 1)."""
    min_event_duration_s: float | None = None
    """Minimum length of a reported event, in [0, 10] seconds."""
    max_faces: int | None = None
    """Faces analysed per frame, largest first, in [0, 32]."""
    include_face_samples: bool = False
    """Return per-frame, per-face emotion samples in :attr:`~laughter.AnalysisResult.face_samples`."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class SessionOptions:
    """How a live session is set up: the formats of the media it will receive, and how to analyse it.

    The defaults describe JPEG frames and 16 kHz mono PCM16 audio from a live source
    (``BacklogPolicy.DROP_OLDEST``). Set ``video_encoding`` or ``audio_encoding`` to ``None`` for a session
    without that track. The server checks the values and rejects a bad set with
    :class:`~laughter.InvalidArgumentError` (reason ``SESSION_CONFIG_INVALID``) naming the field.
    The media sources (:mod:`laughter.sources`) give options that match what they send.
    """

    video_encoding: FrameEncoding | None = FrameEncoding.JPEG
    """Encoding of every frame; ``None``: the session sends no video."""
    video_width: int = 0
    """Frame width in pixels; required for the raw encodings, 0 means "read it from each image"."""
    video_height: int = 0
    """Frame height in pixels; required for the raw encodings, 0 means "read it from each image"."""
    audio_encoding: AudioEncoding | None = AudioEncoding.PCM_S16LE
    """Encoding of every audio chunk; ``None``: the session sends no audio."""
    audio_sample_rate_hertz: int = 16_000
    """In [8000, 48000]; the server resamples to its analysis rate."""
    audio_channel_count: int = 1
    """1 or 2 interleaved channels (stereo is mixed down)."""
    analysis: AnalysisOptions | None = None
    """How to analyse the media; ``None``: the server's defaults."""
    session_id: str = ""
    """At most 64 characters of ``[A-Za-z0-9_-]``; empty lets the server choose one."""
    client_id: str = ""
    """Free-form name of the calling application, for the server's logs and metrics."""
    progress_interval_s: float | None = None
    """How often a :class:`~laughter.Progress` update comes, in [0.1, 60] seconds; ``None``: 1 s."""
    backlog_policy: BacklogPolicy = BacklogPolicy.DROP_OLDEST
    """``DROP_OLDEST`` for live sources; ``BLOCK`` for recorded media sent as fast as possible."""
