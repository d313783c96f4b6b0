#!/usr/bin/env node
// Runs the compiled CLI when built (Docker image), else the TypeScript source through tsx.
const path = require('node:path');
const fs = require('node:fs');
const compiled = path.join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!fs.existsSync(compiled)) require('tsx/cjs');
const { loadConfigOrExit } = require(fs.existsSync(compiled) ? path.join(__dirname, '..', 'dist', 'src', 'config') : '../src/config');
const { runCli } = require(fs.existsSync(compiled) ? compiled : '../src/cli/main');
loadConfigOrExit();
runCli(process.argv).then((code) => { process.exitCode = code; });
