"""The typed vocabulary of sessions maps one to one onto the laughter.v1 enums: a value on either side
without its counterpart is a bug caught here, never discarded at run time."""

from __future__ import annotations

import inspect

import pytest
from laughter.v1 import error_reason_pb2, session_pb2, summary_pb2
from laughter_server import errors
from laughter_server.api import convert, session_convert
from laughter_server.fusion.types import EventPhase, Notice
from laughter_server.media import live_input
from laughter_server.pipeline.vocabulary import BacklogPolicy, DropReason, ErrorReason


def proto_values(enum: object, prefix: str) -> set[str]:
    """Names of a proto enum's values without the prefix, UNSPECIFIED left out."""
    names = {value.name for value in enum.DESCRIPTOR.values}  # type: ignore[attr-defined]
    return {n.removeprefix(prefix) for n in names if not n.endswith("_UNSPECIFIED")}


class TestVocabulary:
    """Every domain value has its proto value and the other way round."""

    def test_error_reasons(self) -> None:
        """ErrorReason is exactly laughter.v1.ErrorReason."""
        assert {r.value for r in ErrorReason} == proto_values(error_reason_pb2.ErrorReason, "ERROR_REASON_")

    def test_every_service_error_has_a_known_reason(self) -> None:
        """Each LaughterError subclass's reason is an ErrorReason (so warnings built from it are typed)."""
        kinds = [
            k for _, k in inspect.getmembers(errors, inspect.isclass) if issubclass(k, errors.LaughterError)
        ]
        assert len(kinds) > 10
        for kind in kinds:
            ErrorReason(kind.reason)

    def test_chunk_error_reasons_are_known(self) -> None:
        """The reasons the live decoders raise are ErrorReasons."""
        source = inspect.getsource(live_input)
        for reason in ("CHUNK_INVALID", "FRAME_TOO_LARGE"):
            assert reason in source
            ErrorReason(reason)

    def test_drop_reasons(self) -> None:
        """DropReason ↔ laughter.v1.DropReason, both ways."""
        assert set(session_convert.DROP_REASONS) == set(DropReason)
        assert {
            session_pb2.DropReason.Name(v).removeprefix("DROP_REASON_")
            for v in session_convert.DROP_REASONS.values()
        } == proto_values(session_pb2.DropReason, "DROP_REASON_")
        assert all(
            session_pb2.DropReason.Name(session_convert.DROP_REASONS[r]).endswith(r.name) for r in DropReason
        )

    def test_event_phases(self) -> None:
        """EventPhase ↔ laughter.v1.EventPhase."""
        assert set(session_convert.PHASES) == set(EventPhase)
        assert all(
            session_pb2.EventPhase.Name(session_convert.PHASES[p]).endswith(p.name) for p in EventPhase
        )
        assert len(set(session_convert.PHASES.values())) == len(
            proto_values(session_pb2.EventPhase, "EVENT_PHASE_")
        )

    def test_backlog_policies(self) -> None:
        """Every proto BacklogPolicy maps to a BacklogPolicy; every BacklogPolicy is reachable."""
        assert set(session_convert.BACKLOG_POLICIES) == {
            v.number for v in session_pb2.BacklogPolicy.DESCRIPTOR.values
        }
        assert set(session_convert.BACKLOG_POLICIES.values()) == set(BacklogPolicy)

    def test_notices(self) -> None:
        """Notice ↔ laughter.v1.NoticeCode (codes the server never sets are listed)."""
        assert set(convert.NOTICES) == set(Notice)
        unused = {"FACE_MODEL_UNAVAILABLE", "AUDIO_MODEL_UNAVAILABLE"}
        assert {n.name for n in Notice} | unused == proto_values(summary_pb2.NoticeCode, "NOTICE_CODE_")

    @pytest.mark.parametrize("name", ["NOT_A_REASON", "chunk_invalid", ""])
    def test_unknown_reason_is_an_error(self, name: str) -> None:
        """An unknown reason is refused loudly."""
        with pytest.raises(ValueError, match="is not a valid ErrorReason"):
            ErrorReason(name)
