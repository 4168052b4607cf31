// The example bytes of docs/protocol.md section 10, copied from the page as printed.

import { fromHex } from "../../clients/web/sdk/cbor.js";

/** Bytes from a dump, with or without the leading offset column. */
export function dump(text) {
  const lines = text.trim().split("\n");
  return fromHex(lines.map((line) => line.trim().replace(/^[0-9a-f]{4}  /, "")).join(" "));
}

export const JOIN_ANN = dump("83 01 00 63 61 6e 6e");
export const JOIN_SAM = dump("83 01 01 63 73 61 6d");
export const JOIN_ZOE = dump("83 01 01 64 5a 6f c3 ab");

export const WELCOME_ANN = dump(`
0000  8b 10 01 02 18 1e 18 1e 19 03 e8 19 03 e8 00 65
0010  61 72 65 6e 61 ad 65 77 69 64 74 68 fb 40 8f 40
0020  00 00 00 00 00 66 68 65 69 67 68 74 fb 40 8f 40
0030  00 00 00 00 00 6d 70 6c 61 79 65 72 5f 72 61 64
0040  69 75 73 fb 40 30 00 00 00 00 00 00 6c 70 6c 61
0050  79 65 72 5f 73 70 65 65 64 fb 40 69 00 00 00 00
0060  00 00 66 6d 61 78 5f 68 70 18 64 6f 66 69 72 65
0070  5f 63 6f 6f 6c 64 6f 77 6e 5f 73 fb 3f d9 99 99
0080  99 99 99 9a 70 70 72 6f 6a 65 63 74 69 6c 65 5f
0090  73 70 65 65 64 fb 40 82 c0 00 00 00 00 00 71 70
00a0  72 6f 6a 65 63 74 69 6c 65 5f 72 61 64 69 75 73
00b0  fb 40 10 00 00 00 00 00 00 75 70 72 6f 6a 65 63
00c0  74 69 6c 65 5f 6c 69 66 65 74 69 6d 65 5f 73 fb
00d0  3f f0 00 00 00 00 00 00 71 70 72 6f 6a 65 63 74
00e0  69 6c 65 5f 64 61 6d 61 67 65 18 19 6f 72 65 73
00f0  70 61 77 6e 5f 64 65 6c 61 79 5f 73 fb 40 00 00
0100  00 00 00 00 00 6e 6f 62 73 74 61 63 6c 65 5f 63
0110  6f 75 6e 74 01 6a 6b 69 6c 6c 5f 73 63 6f 72 65
0120  01 78 18 51 78 33 56 66 32 6d 4b 39 70 4c 77 37
0130  73 54 7a 31 61 42 34 63 44 38 65
`);

export const SNAPSHOT_1_SAM = dump(`
0000  88 11 01 00 00 00 82 86 01 0f 02 19 0e f2 19 1e
0010  8f 19 03 2b 89 02 18 7f 00 19 2a a8 19 04 17 00
0020  18 64 00 01 80 80
`);

export const SNAPSHOT_1_ANN = dump(`
0000  88 11 01 00 00 00 81 89 02 18 7f 00 19 2a a8 19
0010  04 17 00 18 64 00 01 80 80
`);

export const INPUT_ANN_1 = dump("85 02 01 18 18 19 20 00 01");
export const INPUT_ANN_2 = dump("85 02 02 08 19 20 00 02");
export const PING = dump("82 03 19 30 39");
export const PONG = dump("83 12 19 30 39 18 21");

export const SNAPSHOT_2_ANN = dump(`
0000  88 11 02 01 18 21 01 82 85 02 18 4a 19 2b 12 18
0010  20 03 87 03 18 1f 01 19 2c a9 19 05 ae 18 20 02
0020  80 80
`);

export const SNAPSHOT_6_SAM = dump(`
0000  88 11 06 02 18 a7 00 82 83 02 02 19 2c ba 89 04
0010  18 7f 00 19 2f 50 19 08 55 00 18 4b 00 01 81 03
0020  81 86 04 00 02 04 18 19 18 4b
`);

export const SNAPSHOT_4_ANN = dump(`
0000  88 11 04 03 18 64 02 82 83 02 02 19 2b e6 89 04
0010  18 7f 00 19 2f 50 19 08 55 00 18 4b 00 01 81 03
0020  81 86 04 00 02 04 18 19 18 4b
`);

export const SNAPSHOT_6_ANN_FULL = dump(`
0000  88 11 06 00 18 a7 02 82 89 02 18 7f 00 19 2c ba
0010  19 04 17 18 20 18 64 00 03 89 04 18 7f 00 19 2f
0020  50 19 08 55 00 18 4b 00 01 80 81 86 04 00 02 04
0030  18 19 18 4b
`);

export const ERROR_SPECTATOR_INPUT = dump(
  "83 13 01 78 1c 73 70 65 63 74 61 74 6f 72 73 20 63 61 6e 6e 6f 74 20 73 65 6e 64 20 69 6e 70 75 74",
);

/** sam's tick-2 snapshot: ann's bytes with ack_seq 0 (byte 6). */
export function snapshot2Sam() {
  const bytes = SNAPSHOT_2_ANN.slice();
  bytes[6] = 0x00;
  return bytes;
}
