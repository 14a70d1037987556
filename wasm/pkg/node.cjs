'use strict';
// The CommonJS entry of ruvector-learning-wasm (selected by the "require" condition under "node" in
// package.json): node.js for require(), with the same exports, `default` included, over
// wasm-bindgen's glue as CommonJS (build.sh). Without it, require() would load node.js itself,
// which Node.js 20 can do only from 20.19 on. Like node.js, it instantiates nothing until `init()`
// or `initSync()` is called; in a process that both imports and requires the package, each entry
// has its own instance and needs its own call.
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const glue = require('./ruvector_learning_wasm.cjs');
const { nodeInit } = require('./node-init.cjs');

const { init, initSync } = nodeInit(glue.default, glue.initSync,
  pathToFileURL(join(__dirname, 'ruvector_learning_wasm_bg.wasm')));

module.exports = { ...glue, default: init, initSync };
