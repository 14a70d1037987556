// The package as its users install it: `npm pack` of wasm/pkg, installed from the tarball into a
// copy of project/ (a consumer project whose tools, Vite and TypeScript 7 and 5, are pinned by its
// package-lock.json) in a temporary directory. The consumer's code then runs as ESM and CommonJS
// in Node.js, type-checks under "nodenext" and "bundler" resolution, and is bundled by Vite for a
// page in headless Chromium. Each run of project/scenario.js must give what the same scenario
// gives against wasm/pkg directly, and those numbers are checked against the update rule. npm
// installs from its cache (--prefer-offline), which scripts/setup.sh fills. Nothing here skips.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import * as built from '../pkg/node.js';
import { scenario } from './project/scenario.js';

const PKG_DIR = fileURLToPath(new URL('../pkg/', import.meta.url));
const PROJECT_TEMPLATE = fileURLToPath(new URL('./project/', import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

let workDir;
let project;
let packed;
let expected;

/** Runs a command to completion; fails the test with its output if it exits non-zero. */
function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    assert.fail(`${command} ${args.join(' ')} failed (${result.error ?? `exit ${result.status}`}):\n` +
      `${result.stdout}${result.stderr}`);
  }
  return result;
}

/** Runs a Node.js script of the project; returns its JSON output, and asserts it wrote no warning. */
function runNode(args) {
  const { stdout, stderr } = run(process.execPath, args, project);
  assert.equal(stderr, '', `node ${args.join(' ')} wrote to stderr`);
  return JSON.parse(stdout);
}

before(async () => {
  await built.default();
  expected = scenario(built);

  workDir = mkdtempSync(join(tmpdir(), 'ruvector-installed-'));
  [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', workDir], PKG_DIR).stdout);
  project = join(workDir, 'project');
  cpSync(PROJECT_TEMPLATE, project, {
    recursive: true,
    filter: (path) => !['node_modules', 'dist'].includes(basename(path)),
  });
  const npm = ['--prefer-offline', '--no-audit', '--no-fund'];
  run('npm', ['ci', ...npm], project);
  run('npm', ['install', ...npm, join(workDir, packed.filename)], project);
});

after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('the tarball holds the files package.json lists, and nothing else', () => {
  const manifest = JSON.parse(readFileSync(join(PKG_DIR, 'package.json'), 'utf8'));
  assert.deepEqual(packed.files.map((file) => file.path).sort(), [...manifest.files, 'package.json'].sort());
});

test('the scenario computes what the update rule says (against wasm/pkg directly)', () => {
  const dot = (a, b) => a.reduce((sum, v, i) => sum + v * b[i], 0);
  assert.deepEqual(expected.before, expected.input, 'a fresh adapter is the identity');
  const moved = expected.after.map((v, i) => v - expected.input[i]);
  // 0 < g·Δout <= 2·η·‖g‖² for a gradient g of length below 1 (learning rate η = 0.05).
  assert.ok(dot(moved, expected.gradient) > 0, 'the output moved along the gradient');
  assert.ok(dot(moved, expected.gradient) <= 2 * 0.05 * dot(expected.gradient, expected.gradient));
  assert.deepEqual(expected.restored, expected.after, 'the loaded copy computes what the original does');
  assert.deepEqual(expected.counts, ['2', '1']);
  assert.deepEqual(expected.scope, ['HashJoin', '1']);
  assert.equal(expected.meanImprovement, 0.5);
  assert.equal(expected.refusal, 'true: dim must be an integer in 1..=256, got 0');
});

test('ESM in Node.js: import by name, await init(), the "node" entry, the same numbers', () => {
  const { entry, hasMemory, ...results } = runNode(['esm.js']);
  assert.ok(entry.endsWith('/node_modules/ruvector-learning-wasm/node.js'), entry);
  assert.equal(hasMemory, true);
  assert.deepEqual(results, expected);
});

test('CommonJS in Node.js: require(), the same exports, init() or initSync(), also without require(esm)', () => {
  const esmNames = [...Object.keys(built), '__esModule'].sort();
  for (const args of [['cjs.cjs'], ['cjs.cjs', 'initSync'],
    // Node.js 20 before 20.19 cannot require() an ES module; this flag makes 20.20 do the same.
    ['--no-experimental-require-module', 'cjs.cjs']]) {
    const { entry, exportNames, hasMemory, ...results } = runNode(args);
    assert.ok(entry.endsWith('/node_modules/ruvector-learning-wasm/node.cjs'), entry);
    assert.deepEqual(exportNames, esmNames, `node ${args.join(' ')}`);
    assert.equal(hasMemory, true);
    assert.deepEqual(results, expected, `node ${args.join(' ')}`);
  }
});

// The project's two compilers, by path: both packages provide node_modules/.bin/tsc.
const COMPILERS = { '7.0.2': 'node_modules/typescript/bin/tsc', '5.9.3': 'node_modules/typescript-5/bin/tsc' };

/**
 * Type-checks the project with one tsconfig under each compiler; returns, per compiler version,
 * the package's declaration files tsc read.
 */
function typeCheck(config) {
  const read = {};
  for (const [version, tsc] of Object.entries(COMPILERS)) {
    assert.equal(run(process.execPath, [tsc, '--version'], project).stdout.trim(), `Version ${version}`);
    const listed = run(process.execPath, [tsc, '-p', config, '--listFiles'], project).stdout;
    read[version] = listed.split('\n').filter((file) => file.includes('/node_modules/ruvector-learning-wasm/'))
      .map((file) => basename(file)).sort();
  }
  return read;
}

test('TypeScript 7 and 5, strict, "nodenext": types.ts reads node.d.ts, types.cts node.d.cts', () => {
  // Each file has a @ts-expect-error call, which fails the check if the declarations are not read.
  const declarations = ['node.d.cts', 'node.d.ts', 'ruvector_learning_wasm.d.cts', 'ruvector_learning_wasm.d.ts'];
  assert.deepEqual(typeCheck('tsconfig.nodenext.json'), { '7.0.2': declarations, '5.9.3': declarations });
});

test('TypeScript 7 and 5, strict, "bundler": both files read the package\'s top-level "types"', () => {
  const declarations = ['ruvector_learning_wasm.d.ts'];
  assert.deepEqual(typeCheck('tsconfig.bundler.json'), { '7.0.2': declarations, '5.9.3': declarations });
});

/** Starts `vite preview` on a free port of 127.0.0.1; resolves to the process and its URL. */
function vitePreview() {
  const server = spawn(join(project, 'node_modules/.bin/vite'),
    ['preview', '--host', '127.0.0.1', '--port', '0', '--strictPort'],
    { cwd: project, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      server.kill();
      reject(new Error(`vite preview did not start:\n${output}`));
    }, 30_000);
    const collect = (chunk) => {
      output += chunk;
      const url = output.match(/http:\/\/127\.0\.0\.1:\d+\//)?.[0];
      if (url) {
        clearTimeout(timer);
        resolve({ server, url });
      }
    };
    server.stdout.on('data', collect);
    server.stderr.on('data', collect);
    server.on('exit', (code) => reject(new Error(`vite preview exited (${code}):\n${output}`)));
  });
}

test('Vite: the .wasm is emitted as an asset, and the bundled page computes the same numbers in Chromium',
  { timeout: 120_000 }, async () => {
    run(join(project, 'node_modules/.bin/vite'), ['build'], project);
    const assets = readdirSync(join(project, 'dist/assets'));
    const wasmAssets = assets.filter((file) => file.endsWith('.wasm'));
    assert.equal(wasmAssets.length, 1, `one .wasm among ${assets}`);
    assert.deepEqual(readFileSync(join(project, 'dist/assets', wasmAssets[0])),
      readFileSync(join(PKG_DIR, 'ruvector_learning_wasm_bg.wasm')));

    const { server, url } = await vitePreview();
    let browser;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
      const page = await browser.newPage();
      const problems = [];
      const wasmResponses = [];
      page.on('console', (message) => {
        if (['warning', 'error'].includes(message.type())) problems.push(`${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      page.on('response', (response) => {
        if (response.url().endsWith('.wasm')) {
          wasmResponses.push([new URL(response.url()).pathname, response.status(), response.headers()['content-type']]);
        }
      });
      await page.goto(url);
      await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 30_000 })
        .catch(() => assert.fail(`the page did not finish: ${problems.join('; ')}`));
      const { hasMemory, ...results } = await page.evaluate(() => window.__results);

      assert.deepEqual(problems, []);
      assert.deepEqual(wasmResponses, [[`/assets/${wasmAssets[0]}`, 200, 'application/wasm']]);
      assert.equal(hasMemory, true);
      assert.deepEqual(results, expected);
    } finally {
      await browser?.close();
      server.kill();
    }
  });
