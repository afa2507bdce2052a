"""The face stage shared by whole-file and live analysis: letterbox → detect (Triton; with ``detect_every``
> 1 only on some frames, boxes carried by optical flow in between) → crop → emotions and face mesh (Triton,
concurrently) → mouth opening → track. Frames of one call must share a size."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from laughter_server.fusion.types import BoundingBox, FaceObservation
from laughter_server.inference.models import FaceModels
from laughter_server.vision.crops import MIRROR_AVERAGE, average_mirrors, crop_faces, with_mirrors
from laughter_server.vision.detection import (
    DEFAULT_DETECTOR_INPUT_HW,
    FaceBox,
    LetterboxTransform,
    decode_centerface,
    letterbox,
    pad_to_input,
    plan_frames,
    shrink,
)
from laughter_server.vision.landmarks import landmark_crops, mouth_open_scores
from laughter_server.vision.propagate import BoxPropagator, Thumbnail, is_cut, thumbnail
from laughter_server.vision.tracker import FaceTracker


@dataclasses.dataclass
class StageClock:
    """Seconds spent per stage (summed over calls; stages that overlap both count)."""

    seconds: dict[str, float] = dataclasses.field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


class FaceStage:
    """Detects, scores and tracks faces in batches of frames."""

    def __init__(
        self,
        models: FaceModels,
        *,
        detector_input_hw: tuple[int, int] = DEFAULT_DETECTOR_INPUT_HW,
        detection_threshold: float = 0.5,
        max_faces: int = 8,
        tracker: FaceTracker | None = None,
        mirror_average: bool = MIRROR_AVERAGE,
        detect_every: int = 1,
    ) -> None:
        self.models = models
        self.detector_input_hw = detector_input_hw
        self.detection_threshold = detection_threshold
        self.max_faces = max_faces
        self.tracker = tracker or FaceTracker()
        self.mirror_average = mirror_average
        self.propagator = BoxPropagator(detect_every)
        """Carries boxes between detector runs when ``detect_every`` > 1."""
        self._frame_index = 0
        self.emotion_version = models.current_emotion_version()
        """The face emotion version of this analysis, kept when ReloadModel switches the server's."""
        self.frames_analyzed = 0
        self.frames_with_faces = 0
        self.face_detections = 0  # faces summed over frames

    async def process(
        self, times_s: Sequence[float], images: npt.NDArray[np.uint8], clock: StageClock
    ) -> list[FaceObservation]:
        """Face observations (with track ids) for a batch of frames in time order."""
        if len(images) == 0:
            return []
        return await self.describe(times_s, images, await self.locate(images, clock), clock)

    async def locate(self, images: npt.NDArray[np.uint8], clock: StageClock) -> list[list[FaceBox]]:
        """The face boxes of each frame (detected, or carried from the frame before). Calls must come in
        time order, one after the other: the next may start once this one returned."""
        if len(images) == 0:
            return []
        started = time.perf_counter()
        if self.propagator.enabled:
            boxes = await self._detect_or_track(images)
        else:
            boxes = await self._detect(images)
        clock.add("face_detection", time.perf_counter() - started)
        return boxes

    async def describe(
        self,
        times_s: Sequence[float],
        images: npt.NDArray[np.uint8],
        boxes: list[list[FaceBox]],
        clock: StageClock,
    ) -> list[FaceObservation]:
        """Emotions, mouth opening and track ids of located faces; calls in time order, one at a time (a
        ``locate`` of later frames may run alongside)."""
        if len(images) == 0:
            return []
        started = time.perf_counter()
        version = self.emotion_version
        crops, index = await asyncio.to_thread(
            crop_faces, images, boxes, version.side_px, version.margin, version.channels
        )
        mesh_crops = await asyncio.to_thread(landmark_crops, images, boxes)
        probabilities, mesh = await asyncio.gather(
            self._score_emotions(crops, version.mirror and self.mirror_average),
            self.models.locate_landmarks(mesh_crops),
        )
        mouth_open = mouth_open_scores(mesh["landmarks"], mesh["face_presence"])
        clock.add("emotion", time.perf_counter() - started)
        height, width = images.shape[1], images.shape[2]
        observations: list[FaceObservation] = []
        flat = 0
        for frame_index, (t_s, frame_boxes) in enumerate(zip(times_s, boxes, strict=True)):
            self.frames_analyzed += 1
            if frame_boxes:
                self.frames_with_faces += 1
                self.face_detections += len(frame_boxes)
            normalized = [
                (
                    float(np.clip(b.x1 / width, 0, 1)),
                    float(np.clip(b.y1 / height, 0, 1)),
                    float(np.clip(b.x2 / width, 0, 1)),
                    float(np.clip(b.y2 / height, 0, 1)),
                )
                for b in frame_boxes
            ]
            ids = self.tracker.assign(float(t_s), normalized)
            for box, norm, face_id in zip(frame_boxes, normalized, ids, strict=True):
                assert index[flat] == frame_index
                observations.append(
                    FaceObservation(
                        time_s=float(t_s),
                        face_id=face_id,
                        box=BoundingBox(*norm),
                        detection_score=float(box.score),
                        emotions=tuple(float(p) for p in probabilities[flat]),
                        mouth_open=float(mouth_open[flat]),
                    )
                )
                flat += 1
        return observations

    async def _detect(self, images: npt.NDArray[np.uint8]) -> list[list[FaceBox]]:
        batch, transform = await asyncio.to_thread(letterbox, images, self.detector_input_hw)
        return await self._detect_batch(batch, transform)

    async def _detect_batch(
        self, batch: npt.NDArray[np.uint8], transform: LetterboxTransform
    ) -> list[list[FaceBox]]:
        outputs = await self.models.detect(batch)
        return decode_centerface(
            outputs["heatmap"],
            outputs["scale"],
            outputs["offset"],
            outputs["landmarks"],
            transform,
            score_threshold=self.detection_threshold,
            max_faces=self.max_faces,
        )

    def _prepare_tracking(
        self, images: npt.NDArray[np.uint8]
    ) -> tuple[LetterboxTransform, list[npt.NDArray[np.uint8]], list[Thumbnail]]:
        """Each frame scaled once for the detector's letterbox, and its tracking thumbnail (from the same
        scaled frame when the sizes agree)."""
        transform = plan_frames(images, self.detector_input_hw)
        shrunk = [shrink(image, transform) for image in images]
        return (
            transform,
            shrunk,
            [thumbnail(image, small) for image, small in zip(images, shrunk, strict=True)],
        )

    def _carry(
        self, thumbs: list[Thumbnail], detected: dict[int, list[FaceBox]], boxes: list[list[FaceBox]]
    ) -> bool:
        """Extend ``boxes`` frame by frame with the detected boxes or those carried by the flow; stop before the
        first frame whose boxes are lost (False then), or at the end (True)."""
        propagator = self.propagator
        while len(boxes) < len(thumbs):
            i = len(boxes)
            if i in detected:
                propagator.accept(thumbs[i], detected[i], detected=True)
                boxes.append(detected[i])
                continue
            moved = propagator.propagate(thumbs[i])
            if moved is None:
                return False
            propagator.accept(thumbs[i], moved, detected=False)
            boxes.append(moved)
        return True

    async def _detect_or_track(self, images: npt.NDArray[np.uint8]) -> list[list[FaceBox]]:
        """Detector on the frames the schedule (every ``detect_every`` analysed frames, cuts) asks for, in one
        call; the other frames carry the boxes by optical flow, or get their own detector call when a box
        is lost. Each frame is scaled down once, for the detector and the flow alike."""
        propagator = self.propagator
        transform, shrunk, thumbs = await asyncio.to_thread(self._prepare_tracking, images)
        scheduled = []
        previous = propagator.last
        for offset, thumb in enumerate(thumbs):
            index = self._frame_index + offset
            scheduled.append(
                previous is None or index % propagator.detect_every == 0 or is_cut(previous, thumb)
            )
            previous = thumb
        self._frame_index += len(images)
        chosen = [i for i, flag in enumerate(scheduled) if flag]
        detected: dict[int, list[FaceBox]] = {}
        if chosen:
            batch = pad_to_input([shrunk[i] for i in chosen], transform)
            detected = dict(zip(chosen, await self._detect_batch(batch, transform), strict=True))
        boxes: list[list[FaceBox]] = []
        while not await asyncio.to_thread(self._carry, thumbs, detected, boxes):
            lost = len(boxes)  # the boxes could not be followed into this frame: detect on it
            detected[lost] = (await self._detect_batch(pad_to_input([shrunk[lost]], transform), transform))[0]
        return boxes

    async def _score_emotions(self, crops: npt.NDArray[np.uint8], mirror: bool) -> npt.NDArray[np.float32]:
        version = self.emotion_version
        if not mirror or len(crops) == 0:
            return await self.models.score_emotions(crops, version)
        return average_mirrors(await self.models.score_emotions(with_mirrors(crops), version))
