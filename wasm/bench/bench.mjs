// Compares ruvector-learning-wasm (wasm/pkg) with the original @ruvector/learning-wasm@0.1.29 in one
// Node process: CPU ns per call of the hot operations at dim 256, the speed-up, and the .wasm sizes.
// Usage: bash wasm/bench.sh   (or: node wasm/bench/bench.mjs [--quick])
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import initOurs, * as ours from 'ruvector-learning-wasm';
import initOriginal, * as original from '@ruvector/learning-wasm';

const DIM = 256;
const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 9;
const TARGET_ROUND_NS = QUICK ? 20e6 : 100e6; // each round runs about this long

const oursWasm = fileURLToPath(import.meta.resolve('ruvector-learning-wasm/ruvector_learning_wasm_bg.wasm'));
const originalWasm = fileURLToPath(new URL('./ruvector_learning_wasm_bg.wasm', import.meta.resolve('@ruvector/learning-wasm')));

const oursExports = await initOurs();
const originalExports = await initOriginal({ module_or_path: await readFile(originalWasm) });

/** Deterministic values in [-scale, scale). */
function vector(seed, scale = 1) {
  const v = new Float32Array(DIM);
  let s = seed >>> 0;
  for (let i = 0; i < DIM; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    v[i] = ((s / 2 ** 32) * 2 - 1) * scale;
  }
  return v;
}
const input = vector(1);
const gradient = vector(2, 0.01);

/** Calls per round for `run`, so that one round takes about TARGET_ROUND_NS (also warms up). */
function calibrate(run) {
  let n = 1000;
  for (;;) {
    const t0 = process.hrtime.bigint();
    run(n);
    const elapsed = Number(process.hrtime.bigint() - t0);
    if (elapsed > TARGET_ROUND_NS / 4) return Math.max(1, Math.round((n * TARGET_ROUND_NS) / elapsed));
    n *= 4;
  }
}

/**
 * Median ns per call of each of `runs` (functions making n calls), in CPU time of this process
 * (user + system, all its threads, so garbage collection counts): unlike elapsed time, it does not
 * grow while other processes have the CPU, which on a shared machine matters more than anything
 * measured here. The rounds alternate between the runs, so what load remains affects both alike.
 */
function measure(runs) {
  const counts = runs.map(calibrate);
  const samples = runs.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    runs.forEach((run, j) => {
      const before = process.cpuUsage();
      run(counts[j]);
      const used = process.cpuUsage(before);
      samples[j].push(((used.user + used.system) * 1000) / counts[j]);
    });
  }
  return samples.map((s) => s.sort((a, b) => a - b)[s.length >> 1]);
}

/** The cases, each built fresh for one package: `make(api, memory)` returns `run(n)`. */
const cases = [
  ['zero-copy forward()', (api, memory) => {
    const lora = new api.WasmMicroLoRA(DIM, 0.1, 0.01);
    new Float32Array(memory.buffer, lora.get_input_ptr(), DIM).set(input);
    return (n) => { for (let i = 0; i < n; i++) lora.forward(); };
  }],
  ['zero-copy adapt()', (api, memory) => {
    const lora = new api.WasmMicroLoRA(DIM, 0.1, 0.01);
    new Float32Array(memory.buffer, lora.get_input_ptr(), DIM).set(gradient);
    lora.forward();
    return (n) => { for (let i = 0; i < n; i++) lora.adapt(); };
  }],
  ['forward_array', (api) => {
    const lora = new api.WasmMicroLoRA(DIM, 0.1, 0.01);
    return (n) => { for (let i = 0; i < n; i++) lora.forward_array(input); };
  }],
  ['adapt_array', (api) => {
    const lora = new api.WasmMicroLoRA(DIM, 0.1, 0.01);
    lora.forward_array(input);
    return (n) => { for (let i = 0; i < n; i++) lora.adapt_array(gradient); };
  }],
  ['scoped forward_array', (api) => {
    const scoped = new api.WasmScopedLoRA(DIM, 0.1, 0.01);
    return (n) => { for (let i = 0; i < n; i++) scoped.forward_array(i % 17, input); };
  }],
  ['scoped adapt_array', (api) => {
    const scoped = new api.WasmScopedLoRA(DIM, 0.1, 0.01);
    for (let op = 0; op < 17; op++) scoped.forward_array(op, input);
    return (n) => { for (let i = 0; i < n; i++) scoped.adapt_array(i % 17, gradient); };
  }],
  ['trajectory record', (api) => {
    const buffer = new api.WasmTrajectoryBuffer(1000, DIM);
    return (n) => {
      for (let i = 0; i < n; i++) buffer.record(input, i % 17, i & 3, 100 + (i & 7), 150);
    };
  }],
];

const packages = [
  ['ruvector-learning-wasm', ours, () => oursExports.memory],
  ['@ruvector/learning-wasm@0.1.29', original, () => originalExports.memory],
];

const rows = [];
for (const [name, make] of cases) {
  const ns = measure(packages.map(([, api, memory]) => make(api, memory())));
  rows.push({ operation: name, ours: ns[0], original: ns[1], speedup: ns[1] / ns[0] });
}

/**
 * The floor of a call that returns a fresh Float32Array of DIM floats: making such an array and
 * filling it, by either of the two cheapest ways. V8 keeps a typed array of more than 64 bytes
 * outside its heap, so this allocation is most of a forward_array. The floor, this package's
 * forward_array calls and their arithmetic alone (the zero-copy forward) are measured in the same
 * alternating rounds, so that what the calls cost beyond the floor and the arithmetic shows.
 */
const floorRuns = [
  ['new Float32Array(dim) + set', (n) => {
    let last;
    for (let i = 0; i < n; i++) { last = new Float32Array(DIM); last.set(input); }
    return last;
  }],
  ['Float32Array slice()', (n) => {
    let last;
    for (let i = 0; i < n; i++) last = input.slice();
    return last;
  }],
];
const zeroCopyScopedForward = () => {
  const scoped = new ours.WasmScopedLoRA(DIM, 0.1, 0.01);
  new Float32Array(oursExports.memory.buffer, scoped.get_input_ptr(), DIM).set(input);
  return (n) => { for (let i = 0; i < n; i++) scoped.forward(i % 17); };
};
const makeOurs = (name) => cases.find(([caseName]) => caseName === name)[1](ours, oursExports.memory);
const floorCases = [
  ['forward_array', 'zero-copy forward()', makeOurs('zero-copy forward()')],
  ['scoped forward_array', 'scoped zero-copy forward()', zeroCopyScopedForward()],
];
const floorNs = measure([...floorRuns.map(([, run]) => run),
  ...floorCases.flatMap(([name, , arithmetic]) => [makeOurs(name), arithmetic])]);
const floor = Math.min(...floorNs.slice(0, floorRuns.length));

const fmt = (ns) => (ns < 1000 ? `${ns.toFixed(0)} ns` : `${(ns / 1000).toFixed(2)} µs`);
console.log(`dim ${DIM}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}, CPU ns per call, median of ${ROUNDS} alternating rounds\n`);
console.log('| operation | ruvector-learning-wasm | @ruvector/learning-wasm 0.1.29 | speed-up |');
console.log('|---|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.operation} | ${fmt(r.ours)} | ${fmt(r.original)} | ${r.speedup.toFixed(1)}× |`);
}
console.log(`\nfloor of returning a fresh Float32Array(${DIM}), in rounds alternating with this package's calls:`);
floorRuns.forEach(([name], j) => console.log(`  ${name}: ${fmt(floorNs[j])}`));
floorCases.forEach(([name, arithmeticName], j) => {
  const [ns, arithmetic] = floorNs.slice(floorRuns.length + 2 * j);
  console.log(`  ${name}: ${fmt(ns)}, ${(ns / floor).toFixed(2)}× the floor (${fmt(floor)}); ` +
    `the floor + ${arithmeticName} (${fmt(arithmetic)}): ${fmt(floor + arithmetic)}`);
});
const [oursSize, originalSize] = await Promise.all([stat(oursWasm), stat(originalWasm)]);
console.log(`\n.wasm size: ruvector-learning-wasm ${oursSize.size} bytes (${(oursSize.size / 1024).toFixed(1)} KiB), ` +
  `@ruvector/learning-wasm ${originalSize.size} bytes (${(originalSize.size / 1024).toFixed(1)} KiB)`);
