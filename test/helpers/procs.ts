// Test harness: real `baton` processes (coordinator, workers, CLI), with their output kept for assertions.
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { fileURLToPath } from "node:url";

export const BATON_BIN = fileURLToPath(new URL("../../bin/baton.mjs", import.meta.url));

export interface Proc {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  /** Resolves when a line matching `re` has been printed (stdout or stderr). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Starts `baton <args>` as a real child process with the given environment additions. */
export function baton(args: string[], env: Record<string, string> = {}, opts: { cwd?: string; input?: string } = {}): Proc {
  const child = spawn(process.execPath, [BATON_BIN, ...args], {
    env: { ...process.env, BATON_LOG_LEVEL: "info", ...env },
    cwd: opts.cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  let out = "";
  const waiters: { re: RegExp; resolve: (s: string) => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.re);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m[0]);
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | string>((r) => child.once("exit", (code, sig) => r(code ?? sig ?? -1)));
  return {
    child,
    output: () => out,
    exited,
    waitFor(re, timeoutMs = 20_000) {
      const m = out.match(re);
      if (m) return Promise.resolve(m[0]);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${re} in output:\n${out.slice(-3000)}`)), timeoutMs);
        waiters.push({ re, resolve: (s) => (clearTimeout(t), resolve(s)) });
      });
    },
    async kill(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Starts `baton coordinator` and one `baton worker` per `[role, id]` with config `cfg`, and resolves once all
 * of them are ready. The processes are returned (coordinator first) so the caller can stop them.
 */
export async function startStack(cfg: string, env: Record<string, string>, workers: readonly (readonly [role: string, id: string])[]): Promise<Proc[]> {
  const procs = [baton(["coordinator", "--config", cfg], env), ...workers.map(([role, id]) => baton(["worker", "--role", role, "--config", cfg, "--id", id], env))];
  await procs[0]!.waitFor(/coordinator ready/, 30_000);
  await Promise.all(procs.slice(1).map((p) => p.waitFor(/worker ready/, 30_000)));
  return procs;
}

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `baton <args>` run to its end without blocking the event loop (a stack's processes keep printing meanwhile), with
 * NO_COLOR and `env` added, `input` on stdin; SIGKILLed after 60 s.
 */
export function runBaton(args: string[], env: Record<string, string>, input?: string): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BATON_BIN, ...args], { env: { ...process.env, NO_COLOR: "1", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(input ?? "");
    const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("error", fail);
    child.once("close", (status) => (clearTimeout(killer), done({ status, stdout, stderr })));
  });
}

/** `baton <args>` run to its end, as a script runs it (blocking), with NO_COLOR and `env` added. */
export function runBatonSync(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [BATON_BIN, ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env }, timeout: timeoutMs });
}
