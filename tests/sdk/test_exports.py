"""The public surface of the ``laughter`` package."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import laughter


class TestExports:
    """``laughter.__all__`` is the flat, sorted public API."""

    def test_all_is_sorted(self) -> None:
        """The exported names are listed in sorted order."""
        assert laughter.__all__ == sorted(laughter.__all__)

    def test_every_name_resolves(self) -> None:
        """Every exported name exists on the package."""
        missing = [name for name in laughter.__all__ if not hasattr(laughter, name)]
        assert missing == []

    def test_public_names_are_documented(self) -> None:
        """Every exported class and function has a docstring."""
        undocumented = [
            name
            for name in laughter.__all__
            if (inspect.isclass(getattr(laughter, name)) or inspect.isfunction(getattr(laughter, name)))
            and not inspect.getdoc(getattr(laughter, name))
        ]
        assert undocumented == []

    def test_value_types_are_frozen(self) -> None:
        """Every exported dataclass is frozen."""
        thawed = [
            name
            for name in laughter.__all__
            if dataclasses.is_dataclass(getattr(laughter, name))
            and not getattr(laughter, name).__dataclass_params__.frozen
        ]
        assert thawed == []

    def test_client_methods_return_no_protobuf(self) -> None:
        """No public client method is annotated to return a protobuf message."""
        for client in (laughter.LaughterClient, laughter.AsyncLaughterClient):
            for name, method in inspect.getmembers(client, inspect.isfunction):
                if name.startswith("_"):
                    continue
                hint = str(typing.get_type_hints(method).get("return", ""))
                assert "pb2" not in hint, (client.__name__, name, hint)
