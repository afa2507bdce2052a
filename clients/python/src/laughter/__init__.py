"""Python client of the laughter.v1 service: find and classify laughter in video and audio.

>>> import laughter
>>> with laughter.LaughterClient("127.0.0.1:50051") as client:  # doctest: +SKIP
...     result = client.analyze_file("clip.mp4")
...     for event in result.events:
...         print(event.start_s, event.end_s, event.laughter_type)

The generated protobuf stubs live in :mod:`laughter.v1`; the public API never returns them.
"""

from laughter._async_client import AsyncLaughterClient
from laughter._client import LaughterClient
from laughter._config import AnalysisOptions, ClientOptions
from laughter._exceptions import (
    AlreadyExistsError,
    ApiError,
    CancelledError,
    ClientClosedError,
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
    MediaTooLargeError,
    NotFoundError,
    PermissionDeniedError,
    ResourceExhaustedError,
    ServerError,
    ServiceUnavailableError,
    TransportError,
    map_rpc_error,
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
    "ApiError",
    "AsyncLaughterClient",
    "BoundingBox",
    "CancelledError",
    "ClientClosedError",
    "ClientOptions",
    "ConfidenceInterval",
    "DeadlineExceededError",
    "DurationAnalysis",
    "Emotion",
    "EmotionScores",
    "EventEvidence",
    "EvidenceSource",
    "FaceEmotionSample",
    "FaceSummary",
    "FailedPreconditionError",
    "FieldViolation",
    "HealthStatus",
    "InvalidArgumentError",
    "InvalidMediaError",
    "LaughterClient",
    "LaughterError",
    "LaughterEvent",
    "LaughterType",
    "LaughterTypeCount",
    "MediaFileError",
    "MediaFileNotFoundError",
    "MediaFileUnreadableError",
    "MediaIsADirectoryError",
    "MediaSummary",
    "MediaTooLargeError",
    "ModelInfo",
    "ModelRole",
    "NotFoundError",
    "Notice",
    "NoticeCode",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "ServerError",
    "ServiceUnavailableError",
    "StageTiming",
    "TransportError",
    "Trend",
    "TrendBin",
    "TrendDirection",
    "map_rpc_error",
]
