#!/usr/bin/env bash
# Rebuild the extra audio clip set (a laugh, screams and pain cries, and speech
# taken from Debian bookworm packages) anew, from the package archives.
#
# Usage: tools/fetch_extra_audio.sh [OUT_DIR]        (default: build/extra-audio)
#   UPDATE_SHA=1 tools/fetch_extra_audio.sh ...      rewrite tools/extra_audio.sha256
#
# Needs: apt-get (after `apt-get update`, bookworm main in sources), dpkg-deb,
# sha256sum and a Python with numpy, soundfile and PyAV (`av`); the repo venv
# (.venv/bin/python) has them, or set PYTHON. Packages are only downloaded and
# unpacked with `dpkg-deb -x`, never installed.
#
# Output: OUT_DIR/audio/<label>/<package>__<name>.wav (16 kHz mono 16-bit PCM),
# OUT_DIR/manifest.csv (same columns as shared/data/dev/manifest.csv),
# OUT_DIR/extra_audio.sha256. Every wav is checked against tools/extra_audio.sha256.
#
# Reserved sources (server/laughter_train/reserved_sources.txt, or RESERVED_LIST) are never
# fetched: the script stops with status 2, before downloading anything, if one is in PACKAGES.
set -euo pipefail

OUT=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/extra-audio}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$REPO/.venv/bin/python}
SHA_LIST=$REPO/tools/extra_audio.sha256
RESERVED_LIST=${RESERVED_LIST:-$REPO/server/laughter_train/reserved_sources.txt}

PACKAGES=(
  "ardentryst=1.71-9"
  "caveexpress-data=2.5.2-1"
  "fillets-ng-data-cs=1.0.1-1.1"
  "kajongg=4:22.12.3-1"
  "unknown-horizons=2019.1-6"
  "warmux-data=1:11.04.1+repack2-4"
  "wordwarvi-sound=1.0.4-2"
)

# Same rule as laughter_train/reserved.py: case-insensitive, runs of - _ . read as one -, '*' is a
# pattern, owner/name also matches the bare name.
normalise() { tr '[:upper:]' '[:lower:]' <<<"$1" | sed -E 's/[-_.]+/-/g'; }
if [[ ! -s "$RESERVED_LIST" ]]; then
  echo "error: reserved-source list $RESERVED_LIST not found" >&2
  exit 2
fi
for spec in "${PACKAGES[@]}"; do
  name=$(normalise "${spec%%=*}")
  while read -r entry _; do
    [[ -z "$entry" || "$entry" == \#* ]] && continue
    pattern=$(normalise "$entry")
    # shellcheck disable=SC2053  # the entry is a pattern on purpose
    if [[ "$name" == $pattern || "$name" == ${pattern##*/} ]]; then
      echo "error: ${spec%%=*} is a reserved source (entry '$entry' of $RESERVED_LIST); it must not be fetched" >&2
      exit 2
    fi
  done <"$RESERVED_LIST"
done

if ! apt-cache show "${PACKAGES[0]%%=*}" >/dev/null 2>&1; then
  echo "error: apt does not know ${PACKAGES[0]%%=*}; run 'apt-get update' (Debian bookworm main in the sources) first" >&2
  exit 1
fi

mkdir -p "$OUT/debs" "$OUT/pkgs"
OUT=$(cd "$OUT" && pwd)
(cd "$OUT/debs" && apt-get download "${PACKAGES[@]}")

for spec in "${PACKAGES[@]}"; do
  pkg=${spec%%=*}
  ver=${spec#*=}
  deb=$(ls "$OUT/debs/${pkg}_"*_all.deb)
  got=$(dpkg-deb -f "$deb" Version)
  if [[ "$got" != "$ver" ]]; then
    echo "error: $deb has version $got, expected $ver" >&2
    exit 1
  fi
  rm -rf "${OUT:?}/pkgs/$pkg"
  dpkg-deb -x "$deb" "$OUT/pkgs/$pkg"
done

rm -rf "${OUT:?}/audio"
OMP_NUM_THREADS=1 "$PYTHON" - "$OUT" "${PACKAGES[@]%%=*}" <<'PY'
"""Convert the selected package files to 16 kHz mono wav and write manifest.csv."""

import csv
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import soundfile as sf

OUT = Path(sys.argv[1])
FETCHED = set(sys.argv[2:])
SR = 16000
MAX_S = 30.0

LIC = {
    "ardentryst": "CC-BY-SA-3.0 (debian/copyright Files: Sounds/NYX/* Sounds/PYR/*)",
    "caveexpress-data": "CC-BY-SA-4.0 (debian/copyright Files: *.ogg)",
    "fillets-ng-data-cs": "GPL-2+ (package)",
    "kajongg": "GPL-2+ (voices/*/COPYRIGHT: Wolfgang Rohdewald)",
    "unknown-horizons": "CC-BY-SA-3.0 (debian/copyright Files: content/*)",
    "warmux-data": "GPL-2+ (package)",
    "wordwarvi-sound": "CC-BY-SA-3.0 (debian/copyright Files: sounds/*)",
}

FIL = "/usr/share/games/fillets-ng/sound"
KAJ = "/usr/share/kajongg/voices"
UH = "/usr/share/unknown-horizons/content/audio/voice"
WMX = "/usr/share/games/warmux/sound/default/voices"
ARD = "/usr/share/games/ardentryst/Sounds"

# (label, package, path in package, name depth, note); name depth = number of
# trailing path components joined into the file name.
CLIPS = [
    ("laughter", "wordwarvi-sound", "/usr/share/wordwarvi/sounds/hohoho.ogg", 2,
     "Santa-style 'ho ho ho' (stylised, voice-acted deep laugh)"),
    ("scream", "ardentryst", f"{ARD}/NYX/NYX_PAIN1.ogg", 2, "female pain cry (short)"),
    ("scream", "ardentryst", f"{ARD}/NYX/NYX_PAIN3.ogg", 2, "female pain cry (short)"),
    ("scream", "ardentryst", f"{ARD}/PYR/PYR_PAIN1.ogg", 2, "male pain cry"),
    ("scream", "ardentryst", f"{ARD}/PYR/PYR_PAIN3.ogg", 2, "male pain cry"),
    ("scream", "caveexpress-data", "/usr/share/games/caveexpress/sounds/player-pain1.ogg", 2,
     "pain cry (short)"),
    ("scream", "caveexpress-data", "/usr/share/games/caveexpress/sounds/player-pain3.ogg", 2,
     "pain cry (short)"),
    ("scream", "warmux-data", f"{WMX}/death1.ogg", 2, "death cry"),
    ("scream", "warmux-data", f"{WMX}/death2.ogg", 2, "death cry"),
    ("scream", "warmux-data", f"{WMX}/death4.ogg", 2, "death cry"),
    ("scream", "warmux-data", f"{WMX}/injured_high1.ogg", 2, "pain cry"),
    ("scream", "warmux-data", f"{WMX}/injured_high4.ogg", 2, "pain cry"),
    ("scream", "warmux-data", f"{WMX}/injured_high5.ogg", 2, "pain cry"),
    ("speech", "unknown-horizons", f"{UH}/en/0/new_world/0.ogg", 4, "English narration"),
    ("speech", "unknown-horizons", f"{UH}/en/0/new_world/2.ogg", 4, "English narration"),
    ("speech", "unknown-horizons", f"{UH}/de/0/new_world/2.ogg", 4, "German narration"),
    ("speech", "unknown-horizons", f"{UH}/de/0/new_world/3.ogg", 4, "German narration"),
    ("speech", "unknown-horizons", f"{UH}/fr/0/new_world/0.ogg", 4, "French narration"),
    ("speech", "unknown-horizons", f"{UH}/fr/0/new_world/4.ogg", 4, "French narration"),
    ("speech", "kajongg", f"{KAJ}/male2/violatesoriginalcall.ogg", 2, "English, male voice 2"),
    ("speech", "kajongg", f"{KAJ}/male2/dangerousgame.ogg", 2, "English, male voice 2"),
    ("speech", "kajongg", f"{KAJ}/female2/violatesoriginalcall.ogg", 2,
     "English, female voice 2"),
    ("speech", "kajongg", f"{KAJ}/de/female2/dangerousgame.ogg", 3, "German, female voice 2"),
    ("speech", "kajongg", f"{KAJ}/de/male1/dangerousgame.ogg", 3, "German, male voice 1"),
    ("speech", "fillets-ng-data-cs", f"{FIL}/rush/cs/m-hraje.ogg", 3,
     "Czech dialogue (small fish)"),
    ("speech", "fillets-ng-data-cs", f"{FIL}/hanoi/cs/m-predstavujes.ogg", 3,
     "Czech dialogue (small fish)"),
    ("speech", "fillets-ng-data-cs", f"{FIL}/hanoi/cs/m-rekurzivni.ogg", 3,
     "Czech dialogue (small fish)"),
    ("speech", "fillets-ng-data-cs", f"{FIL}/hanoi/cs/v-restartovat.ogg", 3,
     "Czech dialogue (big fish)"),
    ("speech", "fillets-ng-data-cs", f"{FIL}/hole/cs/v-neber.ogg", 3,
     "Czech dialogue (big fish)"),
    ("speech", "fillets-ng-data-cs", f"{FIL}/hole/cs/v-bojim.ogg", 3,
     "Czech dialogue (big fish)"),
]


def decode(path: Path) -> np.ndarray:
    """Decode any audio file (or headerless 16 kHz s16le .raw) to 16 kHz mono int16."""
    if path.suffix == ".raw":
        return np.fromfile(path, dtype="<i2").astype(np.int16)
    chunks = []
    with av.open(str(path), metadata_errors="ignore") as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SR)
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(chunks).astype(np.int16)


def frame_db(x: np.ndarray, n: int) -> np.ndarray:
    """RMS level in dBFS of consecutive n-sample frames."""
    m = len(x) // n
    f = x[: m * n].astype(np.float64).reshape(m, n) / 32768.0
    return 20 * np.log10(np.sqrt((f**2).mean(axis=1)) + 1e-9)


def trim(x: np.ndarray) -> tuple[np.ndarray, str]:
    """Cut leading/trailing silence longer than 1 s (keeping 0.1 s) and clip to 30 s."""
    hop = SR // 50
    db = frame_db(x, hop)
    active = np.flatnonzero(db > db.max() - 40)
    notes = []
    start, end = 0, len(x)
    lead = active[0] * hop / SR
    tail = (len(db) - 1 - active[-1]) * hop / SR
    if lead > 1.0:
        start = active[0] * hop - SR // 10
        notes.append(f"leading silence {lead:.1f} s trimmed")
    if tail > 1.0:
        end = (active[-1] + 1) * hop + SR // 10
        notes.append(f"trailing silence {tail:.1f} s trimmed")
    y = x[start:end]
    if len(y) > MAX_S * SR:
        notes.append(f"trimmed to {MAX_S:.0f} s from offset 0 (original {len(y) / SR:.1f} s)")
        y = y[: int(MAX_S * SR)]
    return y, "; ".join(notes)


def bursts(x: np.ndarray) -> int:
    """Count energy bursts: envelope peaks (10 ms hop) standing 6 dB above both neighbours."""
    from scipy.signal import find_peaks

    db = frame_db(x, SR // 100)
    db = np.convolve(db, np.ones(3) / 3, mode="same")
    peaks, _ = find_peaks(db, prominence=6, distance=8, height=db.max() - 30)
    return len(peaks)


unchecked = sorted({clip[1] for clip in CLIPS} - FETCHED)
if unchecked:
    raise SystemExit("CLIPS names packages missing from PACKAGES (not checked against the reserved list): "
                     + ", ".join(unchecked))

rows = []
for label, pkg, pkg_path, depth, note in CLIPS:
    src = OUT / "pkgs" / pkg / pkg_path.lstrip("/")
    deb = next((OUT / "debs").glob(f"{pkg}_*_all.deb"))
    version = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
    ).stdout.strip()
    x = decode(src)
    y, trim_note = trim(x)
    peak_db = 20 * np.log10(np.abs(y.astype(np.int32)).max() / 32768 + 1e-9)
    if peak_db < -45 or len(y) < SR // 10:
        raise SystemExit(f"{src}: silent or too short (peak {peak_db:.1f} dBFS)")
    parts = Path(pkg_path).with_suffix("").parts[-depth:]
    name = f"{pkg}__{'_'.join(parts)}.wav"
    rel = Path("audio") / label / name
    (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
    sf.write(OUT / rel, y, SR, subtype="PCM_16", format="WAV")
    dur = round(len(y) / SR, 3)
    notes = [note]
    if label == "laughter":
        nb = bursts(y)
        notes.append(f"energy bursts {nb} ({nb / dur:.1f}/s)")
        print(f"laughter check: {rel} duration {dur:.2f} s, bursts {nb}, {nb / dur:.1f}/s")
    if trim_note:
        notes.append(trim_note)
    rows.append([str(rel), label, pkg, version, "debian", pkg_path, LIC[pkg], dur,
                 "; ".join(notes)])

rows.sort(key=lambda r: r[0])
with open(OUT / "manifest.csv", "w", newline="") as fh:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(["file", "label", "source_package", "source_version", "registry",
                "path_in_package", "license", "duration_s", "notes"])
    w.writerows(rows)
print(f"wrote {len(rows)} clips to {OUT}")
PY

(cd "$OUT" && find audio -name '*.wav' -print0 | sort -z | xargs -0 sha256sum) > "$OUT/extra_audio.sha256"
if [[ "${UPDATE_SHA:-0}" == "1" ]]; then
  cp "$OUT/extra_audio.sha256" "$SHA_LIST"
  echo "updated $SHA_LIST"
elif ! diff -u "$SHA_LIST" "$OUT/extra_audio.sha256"; then
  echo "error: wav checksums in $OUT differ from $SHA_LIST (see diff above)" >&2
  exit 1
else
  echo "all $(wc -l < "$SHA_LIST") wav files match $SHA_LIST"
fi
