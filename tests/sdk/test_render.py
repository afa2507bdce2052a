"""Result tables and their plain-text layout."""

from __future__ import annotations

import io

from laughter._convert import result_from_proto
from laughter._render import Table, format_plain, print_tables, result_tables
from laughter.v1 import summary_pb2


class TestFormatPlain:
    """format_plain aligns columns and prints empty tables as a sentence."""

    def test_columns_align(self) -> None:
        """Cells are padded to the widest cell of their column."""
        table = Table("T", ("a", "bb"), (("xxx", "1"), ("y", "22")))
        assert format_plain([table]) == "T\n=\na    bb\n---  --\nxxx  1\ny    22\n"

    def test_empty_table(self) -> None:
        """A table without rows prints its empty text."""
        assert "No laughter found." in format_plain(
            [Table("Laughter events", ("#",), (), "No laughter found.")]
        )


class TestResultTables:
    """result_tables covers events, summary and the optional sections."""

    def test_sections(self, result_proto: summary_pb2.AnalysisResult) -> None:
        """A full result gives every section; an empty one leaves the optional ones out."""
        titles = [table.title for table in result_tables(result_from_proto(result_proto), "sample.mp4")]
        assert titles[:3] == ["Laughter events", "Summary", "Emotion breakdown"]
        assert {"Faces", "Notices", "Models", "Trend", "Stage timings"} <= set(titles)
        empty_titles = [
            table.title for table in result_tables(result_from_proto(summary_pb2.AnalysisResult()))
        ]
        assert "Faces" not in empty_titles

    def test_rich_output_has_the_cells(self, result_proto: summary_pb2.AnalysisResult) -> None:
        """The rich renderer prints the same cells as the plain one."""
        stream = io.StringIO()
        print_tables(result_tables(result_from_proto(result_proto)), stream, use_rich=True)
        text = stream.getvalue()
        assert "Joyful Laugh" in text
        assert "poisson-exact" in text
