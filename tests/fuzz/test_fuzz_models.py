"""Property tests of the model RPCs against the real server: ReloadModel with any name and version (the
model in use is restored afterwards), ListModels. Each answer is OK or a documented status."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st
from laughter.v1 import laughter_service_pb2

from tests.fuzz.answers import CASE_DEADLINE_S, assert_documented_error
from tests.fuzz.strategies import texts

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("stays_serving")]

versions = st.one_of(
    st.sampled_from(("", "1.0.0", "1.1.0", "1.4.0", "9.9.9", "..", "../1.4.0", "1.4.0/", ".hidden", "a\\b")),
    texts,
)


@pytest.fixture(scope="module")
def audio_model(stub) -> Iterator[laughter_service_pb2.ReloadModelRequest]:  # type: ignore[no-untyped-def]
    """The audio model in use; reloaded again after the module."""
    models = stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=CASE_DEADLINE_S).models
    audio = next(m for m in models if m.name.startswith("laughter-audio"))
    request = laughter_service_pb2.ReloadModelRequest(model_name=audio.name, version=audio.version)
    yield request
    stub.ReloadModel(request, timeout=CASE_DEADLINE_S)


@given(name=st.one_of(st.just(""), st.just("laughter-audio"), texts), version=versions)
def test_reload_any_model(stub, audio_model, name: str, version: str) -> None:  # type: ignore[no-untyped-def]
    """Any model name and version: the model, or a documented refusal that may quote them."""
    try:
        reply = stub.ReloadModel(
            laughter_service_pb2.ReloadModelRequest(model_name=name, version=version), timeout=CASE_DEADLINE_S
        )
    except grpc.RpcError as error:
        assert_documented_error(error, (name, version))
        return
    assert reply.model.name == (name or audio_model.model_name)
    assert reply.model.version


def test_list_models_after_reloads(stub, audio_model) -> None:  # type: ignore[no-untyped-def]
    """ListModels answers every model, ready, after any reloads."""
    stub.ReloadModel(audio_model, timeout=CASE_DEADLINE_S)
    models = stub.ListModels(laughter_service_pb2.ListModelsRequest(), timeout=CASE_DEADLINE_S).models
    assert {m.version for m in models if m.name == audio_model.model_name} == {audio_model.version}
    assert all(m.sha256 for m in models)
