#!/usr/bin/env node
// Entry point for `baton`: loads TypeScript through tsx and hands over to the process asked for.
import { register } from "tsx/esm/api";

register();
const cmd = process.argv[2];
const target =
  cmd === "coordinator" ? "../services/coordinator/main.ts"
  : cmd === "worker" ? "../services/worker/main.ts"
  : "../services/cli/main.ts";
await import(new URL(target, import.meta.url).href);
