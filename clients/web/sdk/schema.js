// A game's description (Welcome item 11, docs/protocol.md section 4.4.1) as decoders and
// encoders; gameserver/rules/_descriptions.py and _wiretypes.py are the reference.
//
// Each field of a type becomes a codec: `decode(wire)` gives the value a game page works
// with (fixed: wire / scale; angle: radians; enum: the member's name; flags: an object
// {MEMBER: boolean}; bool: a boolean; int and text: themselves) and `encode(value)` the
// wire value the server checks (the reverse, rounded, and refused with a RangeError
// outside the field's range, since the server would close the connection for it).
// A description that does not fit these rules is refused with a ProtocolError (4002):
// descriptions come over the network and nothing else reads them.

import { CloseCode, ProtocolError } from "./protocol.js";

const TURN = 2 * Math.PI;
const TEXT_MAX_CHARS = 1024;

function bad(reason) {
  return new ProtocolError(CloseCode.INVALID_MESSAGE, `bad game description: ${reason}`);
}

/** A CBOR map (Map) or a plain object as a plain object; anything else is refused. */
function record(value, what) {
  if (value instanceof Map) {
    const out = {};
    for (const [key, element] of value) {
      if (typeof key !== "string") throw bad(`${what} keys must be text`);
      Object.defineProperty(out, key, { value: element, enumerable: true, writable: true });
    }
    return out;
  }
  if (value && typeof value === "object" && !Array.isArray(value)) return value;
  throw bad(`${what} must be a map`);
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function identifier(value, what) {
  if (typeof value !== "string" || !IDENTIFIER.test(value)) throw bad(`${what} must be an identifier`);
  return value;
}

function safeInt(value, what) {
  if (!Number.isSafeInteger(value)) throw bad(`${what} must be an integer`);
  return value;
}

/** Python's round(): nearest, ties to even (the server quantizes the same way). */
export function roundHalfEven(v) {
  const floor = Math.floor(v);
  const rest = v - floor;
  if (rest < 0.5) return floor;
  if (rest > 0.5) return floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

function inRange(wire, lo, hi, label) {
  if (!Number.isSafeInteger(wire) || wire < lo || wire > hi) {
    throw new RangeError(`${label}: must be an integer in [${lo}, ${hi}], got ${wire}`);
  }
  return wire;
}

function members(doc, what) {
  const map = record(doc.members, `${what} members`);
  const entries = Object.entries(map);
  if (!entries.length) throw bad(`${what} needs members`);
  for (const [name, value] of entries) {
    identifier(name, `${what} member`);
    safeInt(value, `${what} member ${name}`);
  }
  return entries;
}

/** One field's codec from its description map; `owner` names the type in messages. */
export function fieldCodec(doc, owner) {
  const d = record(doc, "a field");
  const name = identifier(d.name, "a field name");
  const label = `${owner}.${name}`;
  const kind = d.type;
  const field = {
    name,
    type: kind,
    interpolate: d.interpolate === true,
    position: typeof d.position === "string" ? d.position : null,
    decode: null,
    encode: null,
  };
  if (kind === "int") {
    const lo = safeInt(d.min, `${label} min`);
    const hi = safeInt(d.max, `${label} max`);
    Object.assign(field, { min: lo, max: hi });
    field.decode = (wire) => wire;
    field.encode = (value) => inRange(value, lo, hi, label);
  } else if (kind === "fixed") {
    const scale = d.scale;
    if (typeof scale !== "number" || !(scale > 0)) throw bad(`${label} scale must be positive`);
    const lo = safeInt(d.min, `${label} min`);
    const hi = safeInt(d.max, `${label} max`);
    Object.assign(field, { scale, min: lo, max: hi });
    field.decode = (wire) => wire / scale;
    field.encode = (value) => inRange(roundHalfEven(value * scale), lo, hi, label);
  } else if (kind === "angle") {
    const steps = safeInt(d.steps, `${label} steps`);
    if (steps < 2) throw bad(`${label} steps must be at least 2`);
    field.steps = steps;
    field.decode = (wire) => (wire * TURN) / steps;
    field.encode = (radians) => {
      const wire = roundHalfEven((radians * steps) / TURN) % steps;
      return inRange(wire < 0 ? wire + steps : wire, 0, steps - 1, label);
    };
  } else if (kind === "enum") {
    const entries = members(d, label);
    const byValue = new Map(entries.map(([key, value]) => [value, key]));
    const byName = new Map(entries);
    Object.assign(field, { className: identifier(d.class, `${label} class`), members: Object.fromEntries(entries) });
    field.decode = (wire) => {
      const member = byValue.get(wire);
      if (member === undefined) throw new ProtocolError(CloseCode.INVALID_MESSAGE, `${label}: no member ${wire}`);
      return member;
    };
    field.encode = (value) => {
      if (typeof value === "string") {
        const wire = byName.get(value);
        if (wire === undefined) throw new RangeError(`${label}: no member ${value}`);
        return wire;
      }
      if (!byValue.has(value)) throw new RangeError(`${label}: no member ${value}`);
      return value;
    };
  } else if (kind === "flags") {
    const entries = members(d, label);
    let all = 0;
    for (const [, bit] of entries) {
      if (bit <= 0) throw bad(`${label} flag bits must be positive`);
      all |= bit;
    }
    Object.assign(field, { className: identifier(d.class, `${label} class`), members: Object.fromEntries(entries) });
    field.decode = (wire) => {
      const out = {};
      for (const [key, bit] of entries) out[key] = (wire & bit) !== 0;
      return out;
    };
    field.encode = (value) => {
      if (Number.isSafeInteger(value)) {
        if (value < 0 || (value & ~all) !== 0) throw new RangeError(`${label}: unknown bits in ${value}`);
        return value;
      }
      const names = Array.isArray(value) ? value : Object.keys(value).filter((key) => value[key]);
      let wire = 0;
      for (const key of names) {
        const bit = field.members[key];
        if (bit === undefined) throw new RangeError(`${label}: no member ${key}`);
        wire |= bit;
      }
      return wire;
    };
  } else if (kind === "bool") {
    field.decode = (wire) => wire !== 0;
    field.encode = (value) => (value ? 1 : 0);
  } else if (kind === "text") {
    const maxChars = safeInt(d.max_chars, `${label} max_chars`);
    if (maxChars < 1 || maxChars > TEXT_MAX_CHARS) throw bad(`${label} max_chars out of range`);
    field.maxChars = maxChars;
    field.decode = (wire) => {
      if (typeof wire !== "string") throw new ProtocolError(CloseCode.INVALID_MESSAGE, `${label}: must be text`);
      return wire;
    };
    field.encode = (value) => {
      if (typeof value !== "string" || Array.from(value).length > maxChars) {
        throw new RangeError(`${label}: must be text of at most ${maxChars} characters`);
      }
      return value;
    };
  } else {
    throw bad(`${label} has an unknown type ${JSON.stringify(kind)}`);
  }
  if (kind !== "text") {
    const decodeInt = field.decode;
    field.decode = (wire) => {
      if (!Number.isSafeInteger(wire)) throw new ProtocolError(CloseCode.INVALID_MESSAGE, `${label}: must be an integer`);
      return decodeInt(wire);
    };
  }
  return Object.freeze(field);
}

/** One type (entity, input, command or event): its name, index and field codecs. */
export class TypeCodec {
  constructor(doc, index, where) {
    const d = record(doc, `a type in ${where}`);
    this.name = identifier(d.name, `a type name in ${where}`);
    this.index = index;
    if (!Array.isArray(d.fields)) throw bad(`${this.name} fields must be an array`);
    this.fields = Object.freeze(d.fields.map((field) => fieldCodec(field, this.name)));
    const names = new Set(this.fields.map((field) => field.name));
    if (names.size !== this.fields.length) throw bad(`${this.name} has two fields of one name`);
    Object.freeze(this);
  }

  /** Wire values (in field order) to {name: value}; throws ProtocolError on a mismatch. */
  decodeValues(values) {
    const fields = this.fields;
    if (values.length !== fields.length) {
      throw new ProtocolError(
        CloseCode.INVALID_MESSAGE,
        `${this.name} has ${fields.length} fields, got ${values.length} values`,
      );
    }
    const out = {};
    for (let i = 0; i < fields.length; i++) out[fields[i].name] = fields[i].decode(values[i]);
    return out;
  }

  /** {name: value} (or an array in field order) to wire values; RangeError if out of range. */
  encodeValues(values = {}) {
    if (Array.isArray(values)) {
      if (values.length !== this.fields.length) {
        throw new RangeError(`${this.name} has ${this.fields.length} fields, got ${values.length} values`);
      }
      return this.fields.map((field, i) => field.encode(values[i]));
    }
    return this.fields.map((field) => {
      if (!(field.name in values)) throw new RangeError(`${this.name}.${field.name} is missing`);
      return field.encode(values[field.name]);
    });
  }
}

function typeList(value, where) {
  if (!Array.isArray(value)) throw bad(`${where} must be an array`);
  return Object.freeze(value.map((doc, index) => new TypeCodec(doc, index, where)));
}

/**
 * The decoding schema of one game. `entities[kind]`, `commands[kind]`, `events[kind]` are
 * TypeCodecs (kinds are indices); `input` is one or null for a game played by commands.
 */
export class GameSchema {
  /** From the Welcome's description (a CBOR Map or its plain-object twin). */
  static fromDescription(description) {
    return new GameSchema(record(description, "the description"));
  }

  constructor(d) {
    this.id = typeof d.id === "string" ? d.id : "";
    this.version = Number.isSafeInteger(d.version) ? d.version : 0;
    this.prediction = typeof d.prediction === "string" ? d.prediction : null;
    this.entities = typeList(d.entities, "entities");
    this.input = d.input === null || d.input === undefined ? null : new TypeCodec(d.input, 0, "input");
    this.commands = typeList(d.commands, "commands");
    this.events = typeList(d.events, "events");
    this.commandsByName = new Map(this.commands.map((type) => [type.name, type]));
    Object.freeze(this);
  }

  /**
   * An entity tuple [kind, v1, ...] as {id, type, kind, ...fields}; `type` is the entity
   * type's name. ProtocolError for an unknown kind or a tuple that does not fit it.
   */
  decodeEntity(id, tuple) {
    const type = this.entities[tuple[0]];
    if (type === undefined) throw new ProtocolError(CloseCode.INVALID_MESSAGE, `entity ${id}: unknown kind ${tuple[0]}`);
    return { id, type: type.name, kind: tuple[0], ...type.decodeValues(tuple.slice(1)) };
  }

  /** A snapshot event [tick, kind, v1, ...] as {tick, type, kind, ...fields}. */
  decodeEvent(event) {
    const type = this.events[event[1]];
    if (type === undefined) throw new ProtocolError(CloseCode.INVALID_MESSAGE, `unknown event kind ${event[1]}`);
    return { tick: event[0], type: type.name, kind: event[1], ...type.decodeValues(event.slice(2)) };
  }

  /** A command by name or kind with its values: [kind, wireArgs]. RangeError if unknown. */
  encodeCommand(command, values = {}) {
    const type = typeof command === "number" ? this.commands[command] : this.commandsByName.get(command);
    if (type === undefined) throw new RangeError(`this game has no command ${command}`);
    return [type.index, type.encodeValues(values)];
  }

  /** This game's input values ({name: value} or wire-ordered array) as wire values. */
  encodeInput(values) {
    if (this.input === null) throw new RangeError("this game takes no input; send commands");
    return this.input.encodeValues(values);
  }

  /** The entity type named `name`, or undefined. */
  entityType(name) {
    return this.entities.find((type) => type.name === name);
  }
}
