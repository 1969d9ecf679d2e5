#!/usr/bin/env node
// The `sx` command. Runs the TypeScript entry through tsx's loader (a dependency), so it works
// from a checkout on Node 20 without a build step; only this one import is loaded that way.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('../main.ts', import.meta.url);
process.exitCode = await main(process.argv);
