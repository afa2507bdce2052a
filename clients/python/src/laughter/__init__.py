"""Python client of the laughter.v1 service: find and classify laughter in video and audio.

>>> import laughter
>>> with laughter.LaughterClient("127.0.0.1:50051") as client:  # doctest: +SKIP
...     result = client.analyze_file("clip.mp4")
...     for event in result.events:
...         print(event.start_s, event.end_s, event.laughter_type)

Live sessions stream frames and audio and yield updates as laughter starts and ends:

>>> from laughter.sources import file_source
>>> for update in client.stream(file_source("clip.mp4")):  # doctest: +SKIP
...     print(update.kind)

Many files at once, at most ``concurrency`` in flight, each result as it finishes:

>>> for item in client.analyze_files(paths, concurrency=8):  # doctest: +SKIP
...     print(item.path, item.is_ok, item.elapsed_s)

The generated protobuf stubs live in :mod:`laughter.v1`; the public API never returns them.
"""

from laughter._async_client import AsyncLaughterClient
from laughter._batch import FileResult
from laughter._client import LaughterClient
from laughter._config import AnalysisOptions, ClientOptions, SessionOptions
from laughter._enums import AudioEncoding, BacklogPolicy, DropReason, EventPhase, FrameEncoding
from laughter._exceptions import (
    AlreadyExistsError,
    ApiError,
    CancelledError,
    ClientClosedError,
    ConfigurationError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    InvalidMediaError,
    LaughterError,
    MediaFileError,
    MediaFileNotFoundError,
    MediaFileUnreadableError,
    MediaIsADirectoryError,
    MediaSourceError,
    MediaTooLargeError,
    MissingDependencyError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    ServerError,
    ServiceUnavailableError,
    SessionClosedError,
    TransportError,
    UnauthenticatedError,
    map_rpc_error,
)
from laughter._live import LiveSession
from laughter._results import (
    Analytics,
    PerformanceStats,
    ResultPage,
    StoredResult,
    TimeBucket,
    TypeStats,
    VersionStats,
)
from laughter._retry import RetryPolicy
from laughter._session_types import (
    AudioChunk,
    DropCount,
    EventUpdate,
    FaceSampleUpdate,
    Frame,
    MediaChunk,
    Progress,
    SessionStarted,
    SessionUpdate,
    SessionWarning,
)
from laughter._types import (
    AnalysisResult,
    AnalysisSummary,
    BoundingBox,
    ConfidenceInterval,
    DurationAnalysis,
    Emotion,
    EmotionScores,
    EventEvidence,
    EvidenceSource,
    FaceEmotionSample,
    FaceSummary,
    HealthStatus,
    LaughterEvent,
    LaughterType,
    LaughterTypeCount,
    MediaSummary,
    ModelInfo,
    ModelRole,
    Notice,
    NoticeCode,
    StageTiming,
    Trend,
    TrendBin,
    TrendDirection,
)

__version__ = "0.1.0"

__all__ = [
    "AlreadyExistsError",
    "AnalysisOptions",
    "AnalysisResult",
    "AnalysisSummary",
    "Analytics",
    "ApiError",
    "AsyncLaughterClient",
    "AudioChunk",
    "AudioEncoding",
    "BacklogPolicy",
    "BoundingBox",
    "CancelledError",
    "ClientClosedError",
    "ClientOptions",
    "ConfidenceInterval",
    "ConfigurationError",
    "DeadlineExceededError",
    "DropCount",
    "DropReason",
    "DurationAnalysis",
    "Emotion",
    "EmotionScores",
    "EventEvidence",
    "EventPhase",
    "EventUpdate",
    "EvidenceSource",
    "FaceEmotionSample",
    "FaceSampleUpdate",
    "FaceSummary",
    "FailedPreconditionError",
    "FieldViolation",
    "FileResult",
    "Frame",
    "FrameEncoding",
    "HealthStatus",
    "InvalidArgumentError",
    "InvalidMediaError",
    "LaughterClient",
    "LaughterError",
    "LaughterEvent",
    "LaughterType",
    "LaughterTypeCount",
    "LiveSession",
    "MediaChunk",
    "MediaFileError",
    "MediaFileNotFoundError",
    "MediaFileUnreadableError",
    "MediaIsADirectoryError",
    "MediaSourceError",
    "MediaSummary",
    "MediaTooLargeError",
    "MissingDependencyError",
    "ModelInfo",
    "ModelRole",
    "NotFoundError",
    "Notice",
    "NoticeCode",
    "PerformanceStats",
    "PermissionDeniedError",
    "Progress",
    "ResourceExhaustedError",
    "ResultPage",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "SessionClosedError",
    "SessionOptions",
    "SessionStarted",
    "SessionUpdate",
    "SessionWarning",
    "StageTiming",
    "StoredResult",
    "TimeBucket",
    "TransportError",
    "Trend",
    "TrendBin",
    "TrendDirection",
    "TypeStats",
    "UnauthenticatedError",
    "VersionStats",
    "map_rpc_error",
]
