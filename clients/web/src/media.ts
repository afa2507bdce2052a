// Media types the live view sends.
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { MediaChunkSchema } from "./gen/laughter/v1/media_pb";

export { AudioEncoding, FrameEncoding } from "./gen/laughter/v1/media_pb";
export type MediaChunkJson = MessageInitShape<typeof MediaChunkSchema>;
