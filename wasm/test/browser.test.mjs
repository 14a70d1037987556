// The web build in a real browser: wasm/pkg and a test page served on 127.0.0.1, loaded in headless
// Chromium (Debian's, driven by playwright-core). The page imports the package by its name through
// an import map that follows the package's "browser" export, and calls `await init()` with no
// arguments, so the .wasm is fetched and compiled with instantiateStreaming as in production.
// Without Chromium this test fails; it never skips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const PKG_DIR = fileURLToPath(new URL('../pkg/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.html': 'text/html' };

// Runs in the page. Returns what the assertions below check.
const PAGE_SCRIPT = `
import init, { WasmMicroLoRA, WasmScopedLoRA, WasmTrajectoryBuffer } from 'ruvector-learning-wasm';

const exports = await init();
const results = { memoryIsShared: false };

const lora = new WasmMicroLoRA(256, 0.1, 0.01);
const input = new Float32Array(256).fill(1.0);
results.identity = Array.from(lora.forward_array(input)).every((v) => v === 1);
lora.adapt_array(new Float32Array(256).fill(0.1));
results.loraCounts = [String(lora.forward_count()), String(lora.adapt_count()), typeof lora.forward_count()];
results.deltaNorm = lora.delta_norm();
results.paramCount = lora.param_count();
const moved = lora.forward_array(input);
results.movedAlongGradient = moved.reduce((s, v) => s + (v - 1) * 0.1, 0);

const memory = new Float32Array(lora.memory.buffer);
results.memoryIsShared = lora.memory === exports.memory;
const inputView = new Float32Array(memory.buffer, lora.get_input_ptr(), lora.dim());
const outputView = new Float32Array(memory.buffer, lora.get_output_ptr(), lora.dim());
inputView.set(input);
lora.forward();
results.zeroCopyMatches = outputView.every((v, i) => v === moved[i]);

const scoped = new WasmScopedLoRA(16);
scoped.adapt_array(9, new Float32Array(16).fill(0.1));
results.scoped = [WasmScopedLoRA.scope_name(2), String(scoped.adapt_count(9)), String(scoped.total_adapt_count())];

const buffer = new WasmTrajectoryBuffer(1000, 256);
buffer.record(input, 2, 0, 100.0, 150.0);
results.trajectory = [String(buffer.total_count()), buffer.len(), buffer.mean_improvement(),
  buffer.high_quality_count(0.5), buffer.count_by_operator(2)];

const refused = [];
for (const call of [() => new WasmMicroLoRA(0), () => scoped.forward(17), () => lora.forward_array(new Float32Array(3)),
  () => buffer.record(input, 2, -1, 1, 1), () => WasmMicroLoRA.from_bytes(new Uint8Array(20))]) {
  try { call(); refused.push('no error'); } catch (e) { refused.push((e instanceof Error) + ': ' + e.message); }
}
results.refused = refused;
results.roundTrip = Array.from(WasmScopedLoRA.from_bytes(scoped.to_bytes()).to_bytes()).join() === Array.from(scoped.to_bytes()).join();
window.__results = results;
`;

function pageHtml(importMap) {
  return `<!doctype html><meta charset="utf-8"><title>ruvector-learning-wasm</title>
<script type="importmap">${JSON.stringify(importMap)}</script>
<script type="module">${PAGE_SCRIPT}</script>`;
}

async function serve() {
  const pkg = JSON.parse(await readFile(join(PKG_DIR, 'package.json'), 'utf8'));
  const entry = pkg.exports['.'].browser.default;
  const html = pageHtml({ imports: { 'ruvector-learning-wasm': `/pkg/${entry.replace(/^\.\//, '')}` } });
  const server = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://127.0.0.1').pathname;
    try {
      if (path === '/') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(html);
      } else if (path === '/favicon.ico') {
        response.writeHead(204).end();
      } else if (path.startsWith('/pkg/')) {
        const file = normalize(join(PKG_DIR, path.slice('/pkg/'.length)));
        if (!file.startsWith(PKG_DIR)) throw new Error('outside pkg');
        const body = await readFile(file);
        response.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
      } else {
        response.writeHead(404).end();
      }
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

test('in headless Chromium, await init() with no arguments and every class work', { timeout: 120_000 }, async () => {
  const server = await serve();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('console', (message) => {
      if (['warning', 'error'].includes(message.type())) problems.push(`${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.waitForFunction(() => window.__results !== undefined || false, null, { timeout: 30_000 })
      .catch(() => assert.fail(`the page did not finish: ${problems.join('; ')}`));
    const results = await page.evaluate(() => window.__results);

    assert.deepEqual(problems, [], 'no warnings or errors in the page (the .wasm was streamed as application/wasm)');
    assert.equal(results.identity, true);
    assert.deepEqual(results.loraCounts, ['1', '1', 'bigint']);
    assert.ok(results.deltaNorm > 0);
    assert.equal(results.paramCount, 1024);
    assert.ok(results.movedAlongGradient > 0);
    assert.equal(results.memoryIsShared, true);
    assert.equal(results.zeroCopyMatches, true);
    assert.deepEqual(results.scoped, ['HnswScan', '1', '1']);
    assert.deepEqual(results.trajectory, ['1', 1, 0.5, 1, 1]);
    assert.deepEqual(results.refused.map((r) => r.split(':')[0]), ['true', 'true', 'true', 'true', 'true']);
    assert.match(results.refused[0], /dim must be an integer in 1..=256, got 0/);
    assert.match(results.refused[1], /op_type must be an integer in 0..=16, got 17/);
    assert.match(results.refused[2], /input must have length 256/);
    assert.match(results.refused[3], /attention_type/);
    assert.match(results.refused[4], /state/);
    assert.equal(results.roundTrip, true);
  } finally {
    await browser.close();
    server.close();
  }
});
