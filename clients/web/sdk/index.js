// The browser SDK of the game server: everything a game page needs but its drawing and
// its input. See docs/web.md for how a page is written with it.

export { CborError, CborSimple, decode, encode, fromHex, toHex } from "./cbor.js";
export { ClockEstimator } from "./clock.js";
export {
  browserCloseCode,
  Connection,
  DEFAULT_RECONNECT,
  reconnectDelayS,
  resumeUrl,
  sessionResumeStore,
} from "./connection.js";
export { defaultDelayS, Interpolator, interpolationPlan, pyMod } from "./interpolation.js";
export { connectPage, infoProblem, resumeKey } from "./launch.js";
export {
  DEFAULT_INFO,
  fetchInfo,
  MatchError,
  mergeInfo,
  NAME_STORAGE_KEY,
  parsePageOptions,
  requestMatch,
  webSocketUrl,
} from "./matchmaking.js";
export { ReplayPredictor, replayPrediction } from "./prediction.js";
export {
  ChatChannel,
  CloseCode,
  closeCodeLabel,
  DeltaError,
  decodeServerMessage,
  encodeCommand,
  encodeFindMatch,
  encodeInput,
  encodeJoin,
  encodePing,
  encodeSay,
  ErrorCode,
  isRetryable,
  isValidChatText,
  isValidName,
  MessageType,
  PROTOCOL_VERSION,
  ProtocolError,
  Role,
  SUBPROTOCOL,
  sayProblem,
} from "./protocol.js";
export { fieldCodec, GameSchema, roundHalfEven, TypeCodec } from "./schema.js";
export { CHAT_HISTORY, Session, viewTick } from "./session.js";
export { applyDelta, DecodedWorld, Mirror } from "./world.js";
