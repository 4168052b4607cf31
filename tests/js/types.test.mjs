// The SDK's TypeScript declarations (sdk/index.d.ts) against its JavaScript (sdk/index.js):
// every value declared exists with its kind, and every value exported is declared. Where
// TypeScript is installed (`tsc` on PATH, or $TSC), an example page is type-checked too.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import * as sdk from "../../clients/web/sdk/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const sdkDir = join(here, "..", "..", "clients", "web", "sdk");
const declarations = readFileSync(join(sdkDir, "index.d.ts"), "utf8");

function declared(kind) {
  const pattern = new RegExp(`^export (?:declare )?${kind} (\\w+)`, "gm");
  return [...declarations.matchAll(pattern)].map((match) => match[1]);
}

test("every declared class, function and constant is exported, as what it is declared", () => {
  for (const name of [...declared("class"), ...declared("function")]) {
    assert.equal(typeof sdk[name], "function", `${name} is declared but index.js has no such function`);
  }
  for (const name of declared("const")) {
    assert.notEqual(sdk[name], undefined, `${name} is declared but not exported`);
  }
});

test("every exported value is declared", () => {
  const values = new Set([...declared("class"), ...declared("function"), ...declared("const")]);
  const missing = Object.keys(sdk).filter((name) => !values.has(name));
  assert.deepEqual(missing, [], "exported by index.js without a declaration in index.d.ts");
});

test("the package's exports name files that exist, with the declarations", () => {
  const manifest = JSON.parse(readFileSync(join(sdkDir, "package.json"), "utf8"));
  assert.equal(manifest.type, "module");
  assert.deepEqual(manifest.exports["."], { types: "./index.d.ts", default: "./index.js" });
  for (const target of Object.values(manifest.exports)) {
    for (const file of typeof target === "string" ? [target] : Object.values(target)) {
      assert.ok(readFileSync(join(sdkDir, file)).length > 0, file);
    }
  }
});

test("an example page type-checks against the declarations (where tsc is installed)", (t) => {
  const tsc = process.env.TSC || "tsc";
  const run = spawnSync(tsc, ["-p", join(here, "types")], { encoding: "utf8" });
  if (run.error && run.error.code === "ENOENT") {
    t.skip("TypeScript (tsc) is not installed");
    return;
  }
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
});
