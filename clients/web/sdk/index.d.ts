// Types of the browser SDK's public API (index.js). The SDK is plain JavaScript; these
// declarations are for game developers who write their pages in TypeScript.

// ---------------------------------------------------------------- CBOR (cbor.js)

export class CborError extends Error {}
export class CborSimple {
  constructor(value: number);
  value: number;
}
export function decode(bytes: Uint8Array | ArrayBuffer, options?: { maxDepth?: number }): unknown;
export function encode(value: unknown): Uint8Array;
export function toHex(bytes: Uint8Array): string;
export function fromHex(text: string): Uint8Array;

// ---------------------------------------------------------------- protocol (protocol.js)

export const PROTOCOL_VERSION: 2;
export const SUBPROTOCOL: "gameserver.v2";
export const MessageType: Readonly<{
  JOIN: 1;
  INPUT: 2;
  PING: 3;
  SAY: 4;
  FIND_MATCH: 5;
  COMMAND: 6;
  WELCOME: 16;
  SNAPSHOT: 17;
  PONG: 18;
  ERROR: 19;
  CHAT: 20;
  MATCHED: 21;
}>;
export const Role: Readonly<{ PLAYER: 0; SPECTATOR: 1 }>;
export type RoleValue = 0 | 1;
export const ErrorCode: Readonly<{
  SPECTATOR_INPUT: 1;
  RESUME_REFUSED: 2;
  CHAT_RATE_LIMITED: 3;
  MATCH_FAILED: 4;
  COMMAND_DROPPED: 5;
}>;
export const ChatChannel: Readonly<{ GLOBAL: 0; ANNOUNCEMENT: 1 }>;
export const CloseCode: Readonly<Record<string, number>>;

/** A wire value inside entity tuples, events, inputs and commands. */
export type WireValue = number | string;

export class ProtocolError extends Error {
  constructor(code: number, reason: string);
  /** The close code to send (docs/protocol.md section 9). */
  code: number;
  reason: string;
}
export class DeltaError extends ProtocolError {
  constructor(reason: string);
}

export function isRetryable(code: number): boolean;
export function closeCodeLabel(code: number): string;
export function isValidName(name: unknown): boolean;
export function isValidChatText(text: unknown): boolean;
export function sayProblem(text: string): string | null;
export function encodeJoin(role: RoleValue, name: string, resume?: string): Uint8Array;
export function encodeInput(seq: number, fields: readonly WireValue[], ackTick: number, view?: number): Uint8Array;
export function encodeCommand(kind: number, args?: readonly WireValue[]): Uint8Array;
export function encodeFindMatch(mode: string, name: string): Uint8Array;
export function encodePing(nonce: number): Uint8Array;
export function encodeSay(text: string): Uint8Array;

export interface Welcome {
  type: 16;
  protocolVersion: number;
  entityId: number;
  tickRate: number;
  snapshotRate: number;
  worldWidth: number;
  worldHeight: number;
  tick: number;
  game: string;
  params: Record<string, number>;
  resume: string;
  /** The game's description (Welcome item 11) as decoded CBOR; null from a version 1 server. */
  description: Map<string, unknown> | null;
}
export interface Snapshot {
  type: 17;
  tick: number;
  baselineTick: number;
  serverTimeMs: number;
  ackSeq: number;
  changes: WireValue[][];
  removed: number[];
  events: WireValue[][];
}
export interface Pong {
  type: 18;
  nonce: number;
  serverTimeMs: number;
}
export interface ErrorMessage {
  type: 19;
  code: number;
  reason: string;
}
export interface Chat {
  type: 20;
  channel: number;
  sender: string;
  text: string;
}
export interface Matched {
  type: 21;
  room: string;
  url: string;
}
export type ServerMessage = Welcome | Snapshot | Pong | ErrorMessage | Chat | Matched;
export function decodeServerMessage(bytes: ArrayBuffer | Uint8Array): ServerMessage;

// ---------------------------------------------------------------- schema (schema.js)

export type FieldType = "int" | "fixed" | "angle" | "enum" | "flags" | "bool" | "text";

/** A decoded field value: numbers (fixed in world units, angles in radians), enum member
 * names, flags as {MEMBER: boolean}, booleans and texts. */
export type FieldValue = number | string | boolean | Record<string, boolean>;

export interface FieldCodec {
  readonly name: string;
  readonly type: FieldType;
  readonly interpolate: boolean;
  readonly position: "x" | "y" | "z" | null;
  readonly min?: number;
  readonly max?: number;
  readonly scale?: number;
  readonly steps?: number;
  readonly className?: string;
  readonly members?: Readonly<Record<string, number>>;
  readonly maxChars?: number;
  decode(wire: WireValue): FieldValue;
  /** Flags also take an array of member names or the wire integer; enums the member's value. */
  encode(value: FieldValue | readonly string[]): WireValue;
}
export function fieldCodec(doc: unknown, owner: string): FieldCodec;
export function roundHalfEven(value: number): number;

export type Values = Record<string, FieldValue | readonly string[]>;

export class TypeCodec {
  readonly name: string;
  readonly index: number;
  readonly fields: readonly FieldCodec[];
  decodeValues(values: readonly WireValue[]): Record<string, FieldValue>;
  encodeValues(values?: Values | readonly (FieldValue | readonly string[])[]): WireValue[];
}

/** An entity decoded by the schema: its id, its type's name and kind, and its fields. */
export interface DecodedEntity {
  readonly id: number;
  readonly type: string;
  readonly kind: number;
  readonly [field: string]: FieldValue;
}
/** An event decoded by the schema: the tick it happened at, its type's name and kind. */
export interface DecodedEvent {
  readonly tick: number;
  readonly type: string;
  readonly kind: number;
  readonly [field: string]: FieldValue;
}

export class GameSchema {
  static fromDescription(description: unknown): GameSchema;
  readonly id: string;
  readonly version: number;
  readonly prediction: string | null;
  readonly entities: readonly TypeCodec[];
  readonly input: TypeCodec | null;
  readonly commands: readonly TypeCodec[];
  readonly events: readonly TypeCodec[];
  decodeEntity(id: number, tuple: readonly WireValue[]): DecodedEntity;
  decodeEvent(event: readonly WireValue[]): DecodedEvent;
  encodeCommand(command: string | number, values?: Values): [number, WireValue[]];
  encodeInput(values: Values | readonly FieldValue[]): WireValue[];
  entityType(name: string): TypeCodec | undefined;
}

// ---------------------------------------------------------------- world (world.js)

export type WireTuple = readonly WireValue[];
export function applyDelta(
  baseline: ReadonlyMap<number, WireTuple>,
  changes: readonly WireValue[][],
  removed: readonly number[],
): Map<number, WireTuple>;
export class Mirror {
  entities: Map<number, WireTuple>;
  tick: number;
  clear(): void;
  apply(snapshot: Snapshot): void;
}
export class DecodedWorld {
  constructor(schema: GameSchema);
  entity(id: number, tuple: WireTuple): DecodedEntity;
  all(entities: ReadonlyMap<number, WireTuple>): DecodedEntity[];
}

// ---------------------------------------------------------------- interpolation.js

export interface InterpolationTrack {
  index: number;
  name: string;
  steps: number;
  scale: number;
}
export type InterpolationPlan = ({ tracks: InterpolationTrack[]; x: number; y: number } | null)[];
export interface InterpolatorOptions {
  delayS?: number;
  maxExtrapolationS?: number;
  capacity?: number;
  teleportSpeed?: number;
}
export function interpolationPlan(schema: GameSchema): InterpolationPlan;
export function defaultDelayS(snapshotRate: number): number;
export function pyMod(a: number, n: number): number;
export class Interpolator {
  constructor(plan: InterpolationPlan, options?: InterpolatorOptions);
  readonly delayS: number;
  readonly length: number;
  readonly newestTimeS: number | null;
  renderTime(serverNowS: number): number;
  clear(): void;
  push(serverTimeS: number, entities: ReadonlyMap<number, WireTuple>): void;
  /** Entity id -> its interpolated fields, decoded, at `renderTimeS` (server seconds). */
  sample(renderTimeS: number): Map<number, Record<string, number>>;
}

// ---------------------------------------------------------------- clock.js

export class ClockEstimator {
  constructor(window?: number);
  onPong(sentS: number, receivedS: number, serverTimeS: number): void;
  onSnapshot(localS: number, serverTimeS: number): void;
  readonly samples: number;
  readonly rttS: number | null;
  readonly offsetS: number | null;
  serverNow(localS: number): number;
}

// ---------------------------------------------------------------- prediction.js

/** What a game's prediction hook returns (see prediction.js). */
export interface Predictor {
  applyInput(seq: number, wire: WireValue[], input: unknown): void;
  reconcile(update: { session: Session; me: WireTuple | null; ackSeq: number; full: boolean }): void;
}
export type PredictionHook = (context: { welcome: Welcome; schema: GameSchema | null }) => Predictor | null;
export interface PredictContext {
  readonly params: Record<string, number>;
  readonly tickRate: number;
  readonly dtS: number;
  readonly schema: GameSchema;
}
export type PredictFunction<S extends object = DecodedEntity, I = Record<string, FieldValue>> = (
  state: S,
  input: I,
  context: PredictContext,
) => S;
export function replayPrediction(predict: PredictFunction<any, any>, options?: { maxPending?: number }): PredictionHook;
export class ReplayPredictor implements Predictor {
  readonly pending: [number, unknown][];
  /** The predicted own entity, or null before the server names it. */
  readonly state: DecodedEntity | null;
  readonly corrections: number;
  applyInput(seq: number, wire: WireValue[], input: unknown): void;
  reconcile(update: { session: Session; me: WireTuple | null; ackSeq: number; full: boolean }): void;
}

// ---------------------------------------------------------------- session.js

export const CHAT_HISTORY: number;
export function viewTick(tick: number, serverTimeMs: number, renderTimeS: number, tickRate: number): number;

export interface ChatLine {
  channel: number;
  sender: string;
  text: string;
}

export interface SessionOptions {
  role?: RoleValue;
  prediction?: PredictionHook | null;
  interpolate?: boolean;
  interpolation?: InterpolatorOptions;
}

export class Session {
  constructor(options?: SessionOptions);
  readonly role: RoleValue;
  readonly clock: ClockEstimator;
  readonly welcome: Welcome | null;
  readonly schema: GameSchema | null;
  readonly mirror: Mirror;
  readonly serverTimeMs: number;
  readonly ackSeq: number;
  readonly seq: number;
  readonly predictor: Predictor | null;
  readonly interpolator: Interpolator | null;
  /** Decoded events (raw arrays from a version 1 server), newest last, bounded. */
  readonly events: (DecodedEvent | WireValue[])[];
  /** The events of the newest snapshot. */
  readonly lastEvents: (DecodedEvent | WireValue[])[];
  readonly errors: { code: number; reason: string }[];
  readonly chat: ChatLine[];
  readonly chatReceived: number;
  readonly chatRateLimited: number;
  readonly snapshotsReceived: number;
  readonly entityId: number;
  readonly tick: number;
  readonly me: WireTuple | null;
  reset(): void;
  entities(): DecodedEntity[];
  entity(id: number): DecodedEntity | null;
  handle(message: ServerMessage, nowS: number): void;
  viewTick(nowS: number): number;
  nextInput(input: Values | readonly WireValue[], nowS?: number, options?: { withView?: boolean }): Uint8Array;
  command(command: string | number, values?: Values): Uint8Array;
  ping(nowS: number): Uint8Array;
  renderTimeS(nowS: number): number;
  interpolated(nowS: number): Map<number, Record<string, number>>;
}

// ---------------------------------------------------------------- connection.js

export type ConnectionState = "idle" | "connecting" | "playing" | "spectating" | "reconnecting" | "closed";

export interface ReconnectPolicy {
  maxAttempts: number;
  baseDelayS: number;
  maxDelayS: number;
  jitter: number;
}
export const DEFAULT_RECONNECT: Readonly<ReconnectPolicy>;
export function reconnectDelayS(policy: ReconnectPolicy, attempt: number, random: () => number): number;
export function browserCloseCode(code: number): number;
export function resumeUrl(url: string, resumeToken: string): string;

export interface ResumeRecord {
  url: string;
  resume: string;
  entityId?: number;
}
export interface ResumeStore {
  load(): ResumeRecord | null;
  save(record: ResumeRecord): void;
  clear(): void;
}
export function sessionResumeStore(key: string, storage?: Storage): ResumeStore;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export interface ConnectionOptions {
  url: string;
  role?: RoleValue;
  name?: string;
  /** Matchmaking: FindMatch for a room of this mode instead of a Join. */
  mode?: string | null;
  reconnect?: ReconnectPolicy | null;
  connectTimeoutS?: number;
  pingIntervalS?: number;
  /** The game's input each tick ({field: value}); null sends none. */
  inputSource?: () => Values | readonly WireValue[] | null;
  /** Whether this tick's input carries the view (the tick on screen). */
  inputView?: (input: any) => unknown;
  prediction?: PredictionHook | null;
  interpolation?: InterpolatorOptions;
  resumeStore?: ResumeStore | null;
  onChange?: (state: ConnectionState) => void;
  onWelcome?: (welcome: Welcome, session: Session) => void;
  onSnapshot?: (session: Session) => void;
  onEvent?: (event: DecodedEvent) => void;
  onMessage?: (message: ServerMessage) => void;
  WebSocketImpl?: typeof WebSocket;
  now?: () => number;
  random?: () => number;
  timers?: Timers;
}

export class Connection {
  constructor(options: ConnectionOptions);
  url: string;
  readonly role: RoleValue;
  readonly name: string;
  readonly session: Session;
  readonly state: ConnectionState;
  readonly entityId: number;
  readonly joined: boolean;
  readonly reconnects: number;
  readonly resumes: number;
  readonly closeCode: number | null;
  readonly closeReason: string | null;
  readonly lastError: { code: number; reason: string } | null;
  start(): void;
  stop(reason?: string): void;
  say(text: string): boolean;
  command(command: string | number, values?: Values): boolean;
}

// ---------------------------------------------------------------- matchmaking.js, launch.js

export interface ServerInfo {
  ws_path: string;
  subprotocol: string;
  subprotocols?: string[];
  tokens_required: boolean;
  modes: string[];
  mode_games: Record<string, string>;
}
export const DEFAULT_INFO: Readonly<ServerInfo>;
export const NAME_STORAGE_KEY: string;

export interface PageOptions {
  spectate: boolean;
  name: string | null;
  token: string | null;
  mode: string | null;
  code: string | null;
  room: string | null;
  private: boolean;
}
export function parsePageOptions(search: string): PageOptions;
export function webSocketUrl(
  location: { protocol: string; host: string },
  wsPath: string,
  token: string | null,
  query?: Record<string, string | null | undefined>,
): string;
export function mergeInfo(answer: unknown): ServerInfo;
export function fetchInfo(fetchImpl?: typeof fetch): Promise<ServerInfo>;

export class MatchError extends Error {
  constructor(status: number, reason: string);
  status: number;
  reason: string;
}
export interface MatchAnswer {
  room: string;
  node?: string;
  url: string;
  http_url?: string;
  token?: string | null;
  seat?: string;
  expires_in_s?: number;
  code: string | null;
  created?: boolean;
}
export function requestMatch(
  request: { mode?: string; code?: string; private?: boolean; name?: string; token?: string | null },
  fetchImpl?: typeof fetch,
): Promise<MatchAnswer>;

export function resumeKey(location: { pathname: string; search: string }): string;
export function infoProblem(info: ServerInfo, options: PageOptions): string | null;
export function connectPage(
  options: {
    location: Location | URL;
    name: string;
    spectate?: boolean | null;
    fetchImpl?: typeof fetch;
    storage?: Storage;
  } & Omit<ConnectionOptions, "url" | "role" | "name" | "mode" | "resumeStore">,
): Promise<{ connection: Connection; code: string | null; info: ServerInfo }>;
