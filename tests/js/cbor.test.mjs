import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { CborError, CborSimple, decode, encode, fromHex, toHex } from "../../clients/web/sdk/cbor.js";

const hex = (value) => toHex(encode(value));
const dec = (text) => decode(fromHex(text));

describe("decoding every major type", () => {
  test("0: unsigned integers in every head size", () => {
    assert.equal(dec("00"), 0);
    assert.equal(dec("17"), 23);
    assert.equal(dec("1818"), 24);
    assert.equal(dec("18ff"), 255);
    assert.equal(dec("190100"), 256);
    assert.equal(dec("19ffff"), 65535);
    assert.equal(dec("1a00010000"), 65536);
    assert.equal(dec("1affffffff"), 2 ** 32 - 1);
    assert.equal(dec("1b0000000100000000"), 2 ** 32);
    assert.equal(dec("1b001fffffffffffff"), Number.MAX_SAFE_INTEGER);
  });

  test("0: integers beyond 2^53 - 1 come back as BigInt, exactly", () => {
    assert.equal(dec("1b0020000000000000"), 2n ** 53n);
    assert.equal(dec("1bffffffffffffffff"), 2n ** 64n - 1n);
  });

  test("1: negative integers", () => {
    assert.equal(dec("20"), -1);
    assert.equal(dec("37"), -24);
    assert.equal(dec("3818"), -25);
    assert.equal(dec("3903e7"), -1000);
    assert.equal(dec("3b001ffffffffffffe"), -Number.MAX_SAFE_INTEGER);
    assert.equal(dec("3b001fffffffffffff"), -(2n ** 53n));
    assert.equal(dec("3bffffffffffffffff"), -(2n ** 64n));
  });

  test("2: byte strings", () => {
    assert.deepEqual(dec("40"), new Uint8Array());
    assert.deepEqual(dec("43010203"), new Uint8Array([1, 2, 3]));
  });

  test("3: text strings, UTF-8", () => {
    assert.equal(dec("60"), "");
    assert.equal(dec("63616e6e"), "ann");
    assert.equal(dec("645a6fc3ab"), "Zoë");
    assert.equal(dec("64f09f9880"), "😀");
  });

  test("4: arrays, nested", () => {
    assert.deepEqual(dec("80"), []);
    assert.deepEqual(dec("83010203"), [1, 2, 3]);
    assert.deepEqual(dec("8301820203820405"), [1, [2, 3], [4, 5]]);
    const long = dec(`9819${"01".repeat(25)}`);
    assert.equal(long.length, 25);
  });

  test("5: maps, keys of any type, order kept", () => {
    const map = dec("a2616101016162");
    assert.ok(map instanceof Map);
    assert.deepEqual([...map], [["a", 1], [1, "b"]]);
  });

  test("6: tags are refused", () => {
    assert.throws(() => dec("c11a514b67b0"), /tags are not allowed/);
    assert.throws(() => dec("c249010000000000000000"), CborError); // bignum
  });

  test("7: false, true, null, undefined and other simple values", () => {
    assert.equal(dec("f4"), false);
    assert.equal(dec("f5"), true);
    assert.equal(dec("f6"), null);
    assert.equal(dec("f7"), undefined);
    assert.deepEqual(dec("f0"), new CborSimple(16));
    assert.deepEqual(dec("f8ff"), new CborSimple(255));
    assert.throws(() => dec("f818"), /one-byte form/); // not well-formed (RFC 8949 3.3)
  });

  test("7: float16, including subnormals, infinities and NaN", () => {
    assert.equal(dec("f90000"), 0);
    assert.ok(Object.is(dec("f98000"), -0));
    assert.equal(dec("f93c00"), 1);
    assert.equal(dec("f93e00"), 1.5);
    assert.equal(dec("f97bff"), 65504);
    assert.equal(dec("f90001"), 2 ** -24); // smallest subnormal
    assert.equal(dec("f903ff"), 1023 * 2 ** -24); // largest subnormal
    assert.equal(dec("f90400"), 2 ** -14); // smallest normal
    assert.equal(dec("f9c400"), -4);
    assert.equal(dec("f97c00"), Infinity);
    assert.equal(dec("f9fc00"), -Infinity);
    assert.ok(Number.isNaN(dec("f97e00")));
  });

  test("7: float32 and float64", () => {
    assert.equal(dec("fa47c35000"), 100000);
    assert.equal(dec("fa7f7fffff"), 3.4028234663852886e38);
    assert.equal(dec("fa00000001"), 2 ** -149);
    assert.equal(dec("fb3ff199999999999a"), 1.1);
    assert.equal(dec("fb408f400000000000"), 1000);
    assert.equal(dec("fb3fd999999999999a"), 0.4);
    assert.equal(dec("fb7ff0000000000000"), Infinity);
  });

  test("a byte slice of a larger buffer decodes from its own start", () => {
    const buffer = fromHex("ff83010203ff");
    assert.deepEqual(decode(buffer.subarray(1, 5)), [1, 2, 3]);
    assert.deepEqual(decode(buffer.slice(1, 5).buffer), [1, 2, 3]); // an ArrayBuffer works too
  });
});

describe("the decoder refuses", () => {
  test("truncated input, at every cut of a valid item", () => {
    const full = fromHex("88110600 18a7 02 82 89 02 187f 00 192cba 19 0417 1820 1864 00 03 80 80".replace(/ /g, ""));
    for (let cut = 0; cut < full.length; cut++) {
      assert.throws(() => decode(full.subarray(0, cut)), CborError, `cut at ${cut}`);
    }
  });

  test("truncated heads and bodies of every kind", () => {
    for (const text of ["18", "19ff", "1a0000", "1b00000000", "3b00", "43", "4301", "63616e", "82", "8201", "a1", "a101", "f9", "fa0000", "fb00000000"]) {
      assert.throws(() => dec(text), /truncated/, text);
    }
  });

  test("a length far beyond the input, without allocating it", () => {
    assert.throws(() => dec("9bffffffffffffffff"), /truncated/);
    assert.throws(() => dec("5a7fffffff"), /truncated/);
  });

  test("trailing bytes", () => {
    assert.throws(() => dec("0000"), /trailing/);
    assert.throws(() => dec("8100ff"), /trailing/);
  });

  test("indefinite lengths and a stray break", () => {
    assert.throws(() => dec("9f01ff"), /indefinite/);
    assert.throws(() => dec("5f4101ff"), /indefinite/);
    assert.throws(() => dec("7f6161ff"), /indefinite/);
    assert.throws(() => dec("bf6161 01ff".replace(" ", "")), /indefinite/);
    assert.throws(() => dec("ff"), /break/);
  });

  test("reserved additional information 28..30", () => {
    for (const head of ["1c", "3d", "5e", "7c", "9d", "be", "fc"]) {
      assert.throws(() => dec(head), /reserved/, head);
    }
  });

  test("invalid UTF-8 in a text string", () => {
    assert.throws(() => dec("62c328"), /UTF-8/);
    assert.throws(() => dec("63eda080"), /UTF-8/); // an encoded surrogate
  });

  test("nesting deeper than asked", () => {
    assert.deepEqual(decode(fromHex("818180"), { maxDepth: 3 }), [[[]]]);
    assert.throws(() => decode(fromHex("81818180"), { maxDepth: 3 }), /nesting/);
    assert.throws(() => decode(fromHex("81a1018180"), { maxDepth: 3 }), /nesting/);
  });

  test("empty input", () => {
    assert.throws(() => decode(new Uint8Array()), /truncated/);
  });
});

describe("encoding is canonical (shortest form)", () => {
  test("unsigned integers at every head boundary", () => {
    assert.equal(hex(0), "00");
    assert.equal(hex(1), "01");
    assert.equal(hex(23), "17");
    assert.equal(hex(24), "1818");
    assert.equal(hex(255), "18ff");
    assert.equal(hex(256), "190100");
    assert.equal(hex(300), "19012c");
    assert.equal(hex(65535), "19ffff");
    assert.equal(hex(65536), "1a00010000");
    assert.equal(hex(2 ** 32 - 1), "1affffffff");
    assert.equal(hex(2 ** 32), "1b0000000100000000");
    assert.equal(hex(Number.MAX_SAFE_INTEGER), "1b001fffffffffffff");
    assert.equal(hex(2n ** 64n - 1n), "1bffffffffffffffff");
    assert.equal(hex(5n), "05"); // a small BigInt takes the short head too
  });

  test("negative integers at every head boundary", () => {
    assert.equal(hex(-1), "20");
    assert.equal(hex(-24), "37");
    assert.equal(hex(-25), "3818");
    assert.equal(hex(-256), "38ff");
    assert.equal(hex(-257), "390100");
    assert.equal(hex(-65537), "3a00010000");
    assert.equal(hex(-(2 ** 32) - 1), "3b0000000100000000");
    assert.equal(hex(-(2n ** 64n)), "3bffffffffffffffff");
  });

  test("integers outside CBOR's range are refused", () => {
    assert.throws(() => encode(2n ** 64n), /out of range/);
    assert.throws(() => encode(-(2n ** 64n) - 1n), /out of range/);
  });

  test("string and array lengths at the boundaries", () => {
    assert.equal(hex(""), "60");
    assert.equal(hex("a".repeat(23)).slice(0, 2), "77");
    assert.equal(hex("a".repeat(24)).slice(0, 4), "7818");
    assert.equal(hex("a".repeat(256)).slice(0, 6), "790100");
    assert.equal(hex("Zoë"), "645a6fc3ab"); // length in UTF-8 bytes, not characters
    assert.equal(hex([]), "80");
    assert.equal(hex(new Array(23).fill(0)).slice(0, 2), "97");
    assert.equal(hex(new Array(24).fill(0)).slice(0, 4), "9818");
    assert.equal(hex(new Uint8Array(24)).slice(0, 4), "5818");
  });

  test("integral numbers are integers; others float64", () => {
    assert.equal(hex(2.0), "02");
    assert.equal(hex(-0), "00");
    assert.equal(hex(1.5), "fb3ff8000000000000");
    assert.equal(hex(0.4), "fb3fd999999999999a");
    assert.equal(hex(2 ** 53), "fb4340000000000000"); // not a safe integer: kept exact as a float
  });

  test("maps, simple values, and refusals", () => {
    assert.equal(hex(new Map([["a", 1], [1, "b"]])), "a2616101016162");
    assert.equal(hex({ a: 1 }), "a1616101");
    assert.equal(hex([false, true, null, undefined]), "84f4f5f6f7");
    assert.equal(hex(new CborSimple(16)), "f0");
    assert.equal(hex(new CborSimple(255)), "f8ff");
    assert.throws(() => encode(new CborSimple(24)), /reserved/);
    assert.throws(() => encode(() => 1), /cannot encode/);
    assert.throws(() => encode(Symbol("x")), /cannot encode/);
  });

  test("round trip of a nested value; large output grows the buffer", () => {
    const value = [1, -2, "three", [4, [5, new Uint8Array([6])]], new Map([["k", 2n ** 60n]]), "x".repeat(1000)];
    assert.deepEqual(decode(encode(value)), value);
  });
});

test("hex helpers", () => {
  assert.deepEqual(fromHex("00 ff\n10"), new Uint8Array([0, 255, 16]));
  assert.equal(toHex(new Uint8Array([0, 255, 16])), "00ff10");
  assert.throws(() => fromHex("0"), CborError);
  assert.throws(() => fromHex("zz"), CborError);
});
