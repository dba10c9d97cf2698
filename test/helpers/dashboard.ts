// Test kit for the dashboard: `baton ui` as a real process (its URL read from what it prints), and Debian's headless
// Chromium driven by puppeteer-core with a fresh profile that talks to nothing but the dashboard.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { baton, type Proc } from "./procs.ts";

export const CHROMIUM = process.env.BATON_CHROMIUM ?? "/usr/bin/chromium";

export interface UiProc {
  proc: Proc;
  /** `http://127.0.0.1:<port>/`, as it printed it. */
  url: string;
}

/** Starts `baton ui --port 0 …` (any free port) with the stack's config and environment; resolves once it serves. */
export async function startUi(cfg: string, env: Record<string, string>, args: string[] = []): Promise<UiProc> {
  const proc = baton(["ui", "--config", cfg, "--port", "0", ...args], env);
  const line = await proc.waitFor(/^dashboard: (http:\/\/\S+)/m, 30_000);
  return { proc, url: line.replace(/^dashboard: /, "") };
}

export interface TestBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/** Headless Chromium with a temporary profile; `close()` kills it and removes the profile. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "baton-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: profile,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
    ],
    defaultViewport: { width: 1440, height: 900, deviceScaleFactor: 1 },
    protocolTimeout: 120_000,
  });
  return {
    browser,
    async close() {
      await browser.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
