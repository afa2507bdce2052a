"""Write tests/fixtures/resnet_frontend.npz: the ResNet front end of a few windows of a dev clip, computed as
jrgillick/laughter-detection computes it (its ``audio_utils.featurize_melspec`` on 1 s segments of the file
loaded with ``librosa.load(path, sr=8000)``), independently of ``laughter_server.audio.resnet_frontend``::

    .venv/bin/python tools/make_resnet_frontend_fixture.py ../shared/data/dev
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import librosa
import numpy as np

CLIP = "audio/laughter/btanks-data__sounds_laugh01.wav"
STARTS_S = (0.0, 1.25, 2.5, 4.75)
OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "resnet_frontend.npz"


def featurize_melspec(y: np.ndarray, sr: int, offset: float, duration: float) -> np.ndarray:
    """The original's ``featurize_melspec(y=y, sr=sr, offset=offset, duration=duration, hop_length=186)``
    (librosa 0.8 defaults: reflect padding)."""
    start = librosa.time_to_samples(offset, sr=sr)
    length = librosa.time_to_samples(duration, sr=sr)
    segment = y[start : start + length]
    spectrogram = librosa.feature.melspectrogram(y=segment, sr=sr, hop_length=186, pad_mode="reflect").T
    return librosa.amplitude_to_db(spectrogram, ref=np.max)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("dev_dir", type=Path)
    args = parser.parse_args(argv)
    y, sr = librosa.load(args.dev_dir / CLIP, sr=8000)
    features = np.stack([featurize_melspec(y, sr, start, 1.0) for start in STARTS_S]).astype(np.float32)
    np.savez_compressed(OUT, clip=np.array(CLIP), starts_s=np.array(STARTS_S), features=features)
    print(f"{features.shape} from {CLIP} -> {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
