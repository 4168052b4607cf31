// A small CBOR (RFC 8949) codec for protocol v1 (docs/protocol.md section 2).
//
// Decoding accepts any well-formed item with definite lengths and refuses, like the
// Python client, tags and indefinite lengths. Integers beyond Number.MAX_SAFE_INTEGER
// come back as BigInt, maps as Map, byte strings as Uint8Array, simple values other
// than false/true/null/undefined as CborSimple.
//
// Encoding writes the preferred (shortest) serialization the server's strict decoder
// demands: shortest integer and length heads, definite lengths, no tags. Integral
// Numbers are written as integers; other Numbers as float64, as the server writes
// floats (the server refuses floats from clients anyway).

export class CborError extends Error {
  constructor(message) {
    super(message);
    this.name = "CborError";
  }
}

/** A simple value (major type 7) that is not false, true, null or undefined. */
export class CborSimple {
  constructor(value) {
    this.value = value;
  }
}

const UTF8_DECODER = new TextDecoder("utf-8", { fatal: true });
const UTF8_ENCODER = new TextEncoder();
const TWO_32 = 2 ** 32;
const DEFAULT_MAX_DEPTH = 16;

/** Decode exactly one CBOR item from `bytes` (Uint8Array or ArrayBuffer). */
export function decode(bytes, { maxDepth = DEFAULT_MAX_DEPTH } = {}) {
  const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const reader = new Reader(data, maxDepth);
  const item = reader.item(0);
  if (reader.pos !== data.length) {
    throw new CborError(`${data.length - reader.pos} trailing bytes after the item`);
  }
  return item;
}

class Reader {
  constructor(data, maxDepth) {
    this.data = data;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.pos = 0;
    this.maxDepth = maxDepth;
  }

  need(n) {
    if (this.pos + n > this.data.length) {
      throw new CborError(`truncated: need ${n} bytes at offset ${this.pos}`);
    }
  }

  /** The argument of a head with additional info `info` (0..27); BigInt if unsafe. */
  argument(info) {
    if (info < 24) return info;
    const view = this.view;
    let value;
    if (info === 24) {
      this.need(1);
      value = view.getUint8(this.pos);
      this.pos += 1;
    } else if (info === 25) {
      this.need(2);
      value = view.getUint16(this.pos);
      this.pos += 2;
    } else if (info === 26) {
      this.need(4);
      value = view.getUint32(this.pos);
      this.pos += 4;
    } else if (info === 27) {
      this.need(8);
      const high = view.getUint32(this.pos);
      const low = view.getUint32(this.pos + 4);
      this.pos += 8;
      value = high * TWO_32 + low;
      if (!Number.isSafeInteger(value)) value = (BigInt(high) << 32n) | BigInt(low);
    } else if (info === 31) {
      throw new CborError("indefinite lengths are not allowed");
    } else {
      throw new CborError(`reserved additional information ${info}`);
    }
    return value;
  }

  length(info) {
    const n = this.argument(info);
    if (typeof n === "bigint" || n > this.data.length - this.pos) {
      throw new CborError(`truncated: length ${n} at offset ${this.pos}`);
    }
    return n;
  }

  item(depth) {
    this.need(1);
    const head = this.data[this.pos++];
    const major = head >> 5;
    const info = head & 31;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        return typeof n === "bigint" ? -1n - n : negative(n);
      }
      case 2: {
        const n = this.length(info);
        const out = this.data.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3: {
        const n = this.length(info);
        const view = this.data.subarray(this.pos, this.pos + n);
        this.pos += n;
        try {
          return UTF8_DECODER.decode(view);
        } catch {
          throw new CborError("invalid UTF-8 in a text string");
        }
      }
      case 4: {
        const n = this.length(info); // each item takes at least one byte
        this.enter(depth);
        const out = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.item(depth + 1);
        return out;
      }
      case 5: {
        const n = this.length(info);
        this.enter(depth);
        const out = new Map();
        for (let i = 0; i < n; i++) {
          const key = this.item(depth + 1);
          out.set(key, this.item(depth + 1));
        }
        return out;
      }
      case 6:
        throw new CborError("CBOR tags are not allowed");
      default:
        return this.simple(info);
    }
  }

  enter(depth) {
    if (depth + 1 > this.maxDepth) {
      throw new CborError(`nesting deeper than ${this.maxDepth}`);
    }
  }

  simple(info) {
    const view = this.view;
    if (info < 20) return new CborSimple(info);
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 23) return undefined;
    if (info === 24) {
      this.need(1);
      const value = view.getUint8(this.pos++);
      if (value < 32) throw new CborError(`simple value ${value} must use the one-byte form`);
      return new CborSimple(value);
    }
    if (info === 25) {
      this.need(2);
      const value = float16(view.getUint16(this.pos));
      this.pos += 2;
      return value;
    }
    if (info === 26) {
      this.need(4);
      const value = view.getFloat32(this.pos);
      this.pos += 4;
      return value;
    }
    if (info === 27) {
      this.need(8);
      const value = view.getFloat64(this.pos);
      this.pos += 8;
      return value;
    }
    if (info === 31) throw new CborError("unexpected break (indefinite lengths are not allowed)");
    throw new CborError(`reserved additional information ${info}`);
  }
}

function negative(n) {
  const value = -1 - n;
  return Number.isSafeInteger(value) ? value : -1n - BigInt(n);
}

function float16(bits) {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

// ------------------------------------------------------------------ encoding

/** Encode `value` in preferred serialization; returns a Uint8Array. */
export function encode(value) {
  const writer = new Writer();
  writer.item(value);
  return writer.bytes();
}

class Writer {
  constructor() {
    this.buffer = new Uint8Array(64);
    this.view = new DataView(this.buffer.buffer);
    this.pos = 0;
  }

  reserve(n) {
    if (this.pos + n <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.pos + n) size *= 2;
    const bigger = new Uint8Array(size);
    bigger.set(this.buffer.subarray(0, this.pos));
    this.buffer = bigger;
    this.view = new DataView(bigger.buffer);
  }

  bytes() {
    return this.buffer.slice(0, this.pos);
  }

  /** A head: major type and argument (a non-negative safe integer or BigInt < 2^64). */
  head(major, argument) {
    const type = major << 5;
    if (typeof argument === "bigint") {
      if (argument < 0n || argument >= 1n << 64n) throw new CborError("integer out of range");
      if (argument <= BigInt(Number.MAX_SAFE_INTEGER)) {
        this.head(major, Number(argument));
        return;
      }
      this.reserve(9);
      this.buffer[this.pos] = type | 27;
      this.view.setBigUint64(this.pos + 1, argument);
      this.pos += 9;
      return;
    }
    if (argument < 24) {
      this.reserve(1);
      this.buffer[this.pos++] = type | argument;
    } else if (argument < 0x100) {
      this.reserve(2);
      this.buffer[this.pos] = type | 24;
      this.buffer[this.pos + 1] = argument;
      this.pos += 2;
    } else if (argument < 0x10000) {
      this.reserve(3);
      this.buffer[this.pos] = type | 25;
      this.view.setUint16(this.pos + 1, argument);
      this.pos += 3;
    } else if (argument < TWO_32) {
      this.reserve(5);
      this.buffer[this.pos] = type | 26;
      this.view.setUint32(this.pos + 1, argument);
      this.pos += 5;
    } else {
      this.reserve(9);
      this.buffer[this.pos] = type | 27;
      this.view.setUint32(this.pos + 1, Math.floor(argument / TWO_32));
      this.view.setUint32(this.pos + 5, argument % TWO_32);
      this.pos += 9;
    }
  }

  raw(bytes) {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  item(value) {
    if (typeof value === "number") {
      if (Number.isSafeInteger(value)) {
        if (value >= 0) this.head(0, value);
        else this.head(1, -1 - value);
      } else {
        this.reserve(9);
        this.buffer[this.pos] = 0xfb;
        this.view.setFloat64(this.pos + 1, value);
        this.pos += 9;
      }
    } else if (typeof value === "bigint") {
      if (value >= 0n) this.head(0, value);
      else this.head(1, -1n - value);
    } else if (typeof value === "string") {
      const utf8 = UTF8_ENCODER.encode(value);
      this.head(3, utf8.length);
      this.raw(utf8);
    } else if (value instanceof Uint8Array) {
      this.head(2, value.length);
      this.raw(value);
    } else if (Array.isArray(value)) {
      this.head(4, value.length);
      for (const element of value) this.item(element);
    } else if (value instanceof Map) {
      this.head(5, value.size);
      for (const [key, element] of value) {
        this.item(key);
        this.item(element);
      }
    } else if (value === false || value === true) {
      this.head(7, value ? 21 : 20);
    } else if (value === null) {
      this.head(7, 22);
    } else if (value === undefined) {
      this.head(7, 23);
    } else if (value instanceof CborSimple) {
      if (value.value >= 20 && value.value < 32) throw new CborError("reserved simple value");
      this.head(7, value.value);
    } else if (typeof value === "object") {
      const entries = Object.entries(value);
      this.head(5, entries.length);
      for (const [key, element] of entries) {
        this.item(key);
        this.item(element);
      }
    } else {
      throw new CborError(`cannot encode a ${typeof value}`);
    }
  }
}

/** Lowercase hex of bytes; handy for logs and tests. */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes from hex, ignoring whitespace (so dumps can be pasted with spaces). */
export function fromHex(text) {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 || /[^0-9a-fA-F]/.test(clean)) throw new CborError("not hex");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
