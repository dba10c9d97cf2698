// The cold-start scenario: how long a user waits for `baton --help` and `baton status <id>`, each a fresh
// `node bin/baton.mjs` process timed from spawn to exit, on the compiled JavaScript in dist/ (what `npm ci` builds)
// and, forced with BATON_TSX=1, on the TypeScript sources through tsx; `node -e 0` alongside gives node's own start.
import { spawn } from "node:child_process";
import { pathToFileURL } from "node:url";
import { build, distState, sourceListing } from "../bin/build.mjs";
import { makeFeature, ROLE, run, withStack, type Ctx } from "./scenarios.ts";
import { summarize, type Summary } from "./stats.ts";
import { BATON_BIN, ROOT } from "./world.ts";

/** The target for both commands, p50 (ms). */
export const COLD_START_TARGET_MS = 250;
const RUN_TIMEOUT_MS = 20_000;
/** Compiled samples redone because the sources changed around them (others editing): more than this fails the scenario. */
const MAX_REBUILDS = 10;

export interface ColdStartCommand {
  /** As a user types it. */
  command: string;
  /** Spawn → exit (ms) through dist/, and through tsx (BATON_TSX=1). */
  compiled: Summary;
  tsx: Summary;
}

export interface ColdStartResult {
  runs: number;
  warmups: number;
  commands: ColdStartCommand[];
  /** `node -e 0`: node's own start and exit, measured in the same iterations (ms). */
  node: Summary;
  /** bin/baton.mjs's freshness check (distState: read the stamp, stat each file in it), first call in a fresh process, ms. */
  freshnessCheck: Summary;
  /** Source files dist/ depends on (one stat each in that check). */
  sourceFiles: number;
  /** Times dist/ was rebuilt during the scenario because a source changed (a compiled sample is redone then). */
  rebuilds: number;
}

interface Sample {
  ms: number;
  code: number | string;
  out: string;
}

/** Runs `node <args>` once and times it from just before spawn to its exit (stdout and stderr closed). */
function timeOnce(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), RUN_TIMEOUT_MS);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - t0, code: code ?? signal ?? -1, out });
    });
  });
}

/** The freshness check (distState) as the bin pays for it: the first call in a fresh process, timed inside it. */
async function timeFreshnessCheck(cwd: string): Promise<number> {
  const url = pathToFileURL(`${ROOT}/bin/build.mjs`).href;
  const script = `const { distState } = await import(${JSON.stringify(url)}); const t0 = performance.now(); ` +
    `const s = distState(${JSON.stringify(ROOT)}); console.log(JSON.stringify({ ms: performance.now() - t0, fresh: s.fresh }));`;
  const r = await timeOnce(["--input-type=module", "-e", script], process.env, cwd);
  if (r.code !== 0) throw new Error(`freshness check failed: ${r.out.trim()}`);
  return (JSON.parse(r.out) as { ms: number }).ms;
}

export async function coldStartScenario(ctx: Ctx, o: { runs: number; warmups: number }): Promise<ColdStartResult> {
  return withStack(ctx, "coldstart", { [ROLE]: { executor: "noop" } }, async (s) => {
    await s.addWorkers([{ role: ROLE, concurrency: 1 }]);
    const feature = makeFeature("cold-1", 3, { chain: true });
    await run(ctx, s, "a feature to ask about", [feature], 60_000);
    const cwd = ctx.world.dir;
    const env = ctx.world.batonEnv(s.prefix); // no BATON_* inherited: BATON_TSX only where set below
    const tsxEnv = { ...env, BATON_TSX: "1" };
    const commands = [
      { command: "baton --help", args: ["--help"], ok: (out: string) => out.includes("usage:") },
      { command: "baton status <id>", args: ["status", feature.id], ok: (out: string) => out.includes(feature.id) },
    ];
    let rebuilds = 0;
    const ensureFresh = async () => {
      const st = distState(ROOT);
      if (st.fresh) return;
      if (++rebuilds > MAX_REBUILDS) throw new Error(`the sources kept changing: dist/ rebuilt ${MAX_REBUILDS} times during the scenario`);
      const ms = await build(ROOT);
      ctx.say(`  coldstart: ${st.reason}: dist/ rebuilt in ${(ms / 1000).toFixed(1)} s`);
    };
    const sample = async (what: string, args: string[], e: NodeJS.ProcessEnv, ok: (out: string) => boolean) => {
      const r = await timeOnce([BATON_BIN, ...args], e, cwd);
      if (r.code !== 0 || !ok(r.out)) throw new Error(`${what} (${e.BATON_TSX ? "tsx" : "compiled"}) exited ${r.code}: ${r.out.trim().slice(0, 400)}`);
      return r.ms;
    };
    /** A compiled sample counts only when dist/ was fresh before and after it (else it may have run through tsx). */
    const compiledSample = async (c: (typeof commands)[number]) => {
      for (;;) {
        await ensureFresh();
        const ms = await sample(c.command, c.args, env, c.ok);
        if (distState(ROOT).fresh) return ms;
      }
    };
    await ensureFresh();
    const samples = commands.map(() => ({ compiled: [] as number[], tsx: [] as number[] }));
    const node: number[] = [];
    const check: number[] = [];
    ctx.say(`  coldstart: ${o.warmups} warm-up(s), then ${o.runs} runs of each command, compiled and through tsx, interleaved`);
    for (let i = 0; i < o.warmups + o.runs; i++) {
      ctx.timeLeft(RUN_TIMEOUT_MS);
      const keep = i >= o.warmups;
      const n = await timeOnce(["-e", "0"], env, cwd);
      const f = await timeFreshnessCheck(cwd);
      if (keep) node.push(n.ms), check.push(f);
      for (const [k, c] of commands.entries()) {
        const compiled = await compiledSample(c);
        const tsx = await sample(c.command, c.args, tsxEnv, c.ok);
        if (keep) samples[k]!.compiled.push(compiled), samples[k]!.tsx.push(tsx);
      }
      if (keep && (i + 1 - o.warmups) % 10 === 0) ctx.say(`  … coldstart: ${i + 1 - o.warmups}/${o.runs} runs`);
    }
    const r: ColdStartResult = {
      runs: o.runs, warmups: o.warmups,
      commands: commands.map((c, k) => ({ command: c.command, compiled: summarize(samples[k]!.compiled), tsx: summarize(samples[k]!.tsx) })),
      node: summarize(node), freshnessCheck: summarize(check), sourceFiles: sourceListing(ROOT).length, rebuilds,
    };
    for (const c of r.commands) {
      ctx.say(`  ${c.command}: compiled p50 ${c.compiled.p50.toFixed(0)} ms, p90 ${c.compiled.p90.toFixed(0)} ms; tsx p50 ${c.tsx.p50.toFixed(0)} ms, p90 ${c.tsx.p90.toFixed(0)} ms`);
    }
    ctx.say(`  node -e 0: p50 ${r.node.p50.toFixed(0)} ms; freshness check p50 ${r.freshnessCheck.p50.toFixed(1)} ms over ${r.sourceFiles} files`);
    return r;
  });
}
