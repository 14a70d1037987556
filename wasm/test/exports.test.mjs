// The interface between the module and its JavaScript, checked mechanically: the exports of the
// built .wasm are exactly those that js/api.js and wasm-bindgen's glue read, and the layout
// constants of js/api.js are checked against the module's own when it is instantiated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const read = (path) => readFileSync(new URL(path, import.meta.url));
const wasmBytes = read('../pkg/ruvector_learning_wasm_bg.wasm');
const api = read('../js/api.js').toString();
/** What build.sh appends to each glue before js/api.js: the glue is what comes before it. */
const APPENDED = 'const glueExports = ';

/** The glue that wasm-bindgen generated for the package file `name`, without js/api.js. */
function glueOf(name) {
  const text = read(`../pkg/${name}`).toString();
  const end = text.indexOf(APPENDED);
  assert.ok(end > 0, `${name} has js/api.js appended after "${APPENDED}"`);
  return text.slice(0, end);
}

/** The names of `source`'s reads of `object.<name>`, as a sorted array without repeats. */
const namesRead = (source, object) =>
  [...new Set([...source.matchAll(new RegExp(`${object}\\.([A-Za-z_$][\\w$]*)`, 'g'))].map((m) => m[1]))].sort();

// wasm-bindgen's runtime exports these globals for hosts that stop an instance after an abort;
// neither its glue for our targets nor js/api.js reads them.
const RUNTIME_ONLY = ['__abort_handler', '__instance_terminated'];

test('js/api.js reads every export by its name written out, never by a name built at run time', () => {
  // `raw` holds the module's exports; `instantiated()` returns them after checking they exist.
  assert.doesNotMatch(api, /\b(raw|instantiated\(\))\s*\[/, 'an export read by a computed name');
  assert.doesNotMatch(api, /\braw\s*\.\s*\n/, 'an export name on the next line, which the scan below misses');
  assert.ok(namesRead(api, '\\braw').length > 40, 'the scan finds js/api.js\'s reads');
});

test('the module exports exactly what js/api.js and the glue read, no more and no fewer', () => {
  const exported = WebAssembly.Module.exports(new WebAssembly.Module(wasmBytes)).map(({ name }) => name).sort();
  const byApi = [...new Set([...namesRead(api, '\\braw'), ...namesRead(api, '\\binstantiated\\(\\)')])].sort();
  const byGlue = namesRead(glueOf('ruvector_learning_wasm.js'), '\\bwasm');
  // The CommonJS entry's glue (the no-modules target) reads the same exports of the same .wasm.
  assert.deepEqual(namesRead(glueOf('ruvector_learning_wasm.cjs'), '\\bwasm'), byGlue);
  const read = new Set([...byApi, ...byGlue, ...RUNTIME_ONLY]);
  const unread = exported.filter((name) => !read.has(name));
  const missing = [...read].filter((name) => !exported.includes(name)).sort();
  assert.deepEqual(unread, [], 'exports of the module that no JavaScript reads');
  assert.deepEqual(missing, [], 'names js/api.js or the glue read that the module does not export');
  // Every class's exports are reached, not only those of one: each prefix has its free and to_bytes.
  for (const prefix of ['lora', 'scoped', 'trajectory']) {
    for (const suffix of ['new', 'from_bytes', 'to_bytes', 'free']) assert.ok(byApi.includes(`${prefix}_${suffix}`));
  }
});

test('a JavaScript whose layout constants differ from the module\'s is refused at instantiation', async () => {
  const glue = read('../pkg/ruvector_learning_wasm.js').toString();
  assert.match(glue, /STAGING_DIM = 8\b/);
  const directory = mkdtempSync(join(tmpdir(), 'ruvector-layout-'));
  try {
    const file = join(directory, 'moved-dim.mjs');
    writeFileSync(file, glue.replace(/STAGING_DIM = 8\b/, 'STAGING_DIM = 12'));
    const moved = await import(pathToFileURL(file).href);
    assert.throws(() => moved.initSync({ module: wasmBytes }), /disagree on the layout/);
    // Nothing is usable after the refusal: the classes say the module is not initialised.
    assert.throws(() => new moved.WasmMicroLoRA(8), /not initialised/);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
