#!/usr/bin/env node
// Entry point: everything lives in the compiled dist/cli.js.
import { main } from '../dist/cli.js';

main(process.argv.slice(2));
