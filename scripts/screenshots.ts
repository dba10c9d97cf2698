// `npx tsx scripts/screenshots.ts`: the dashboard's screenshots in docs/img/ (the README links them). Starts a real
// stack (nats-server, coordinator, exec workers, `baton ui`), submits a handful of features that end up completed,
// running, failed, waiting for approval and asking a question, and photographs the features list and the running
// feature's page with headless Chromium. Deterministic enough: the running feature's middle tasks are held open.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { encode } from "../shared/codec.ts";
import { featureHistory } from "../shared/client/index.ts";
import { names } from "../shared/subjects.ts";
import { AGENT } from "../test/integration/planning-harness.ts";
import { launchBrowser, startUi } from "../test/helpers/dashboard.ts";
import { startNatsServer, uniquePrefix } from "../test/helpers/nats-server.ts";
import { startStack } from "../test/helpers/procs.ts";

const OUT = fileURLToPath(new URL("../docs/img/", import.meta.url));
const ROLES = ["database", "api", "backend", "frontend", "qa", "docs", "reviewer"];

const config = (dir: string) => `
workspace: ./ws
coordinator: { rescanSeconds: 1 }
worker: { heartbeatSeconds: 1 }
roles:
${ROLES.map((role) => `  ${role}: { exec: ["node", "./agent.mjs"], timeoutSeconds: 600, concurrency: 2, env: { AGENT_LOG: "${join(dir, "agent-log")}" } }`).join("\n")}
gates:
  lint:
    run: ["sh", "-c", "echo 'eslint src/ --max-warnings 0'; echo '✔ 0 problems (0 errors, 0 warnings) in 42 files'"]
  tests:
    run: ["sh", "-c", "printf 'TAP version 13\\\\nok 1 - creates a payment intent\\\\nok 2 - refuses an expired card\\\\nok 3 - stores the card token only\\\\nok 4 - lists saved cards\\\\n1..4\\\\n# pass 4\\\\n# fail 0\\\\n'"]
    tests: tap
  schema-check:
    run: ["sh", "-c", "echo 'checking migrations/0007_sessions.sql'; echo 'error: table sessions has no primary key'; exit 1"]
`;

const step = (id: string, role: string, title: string, more: Record<string, unknown> = {}) => ({ id, role, title, ...more });
const spec = (value: Record<string, unknown>) => JSON.stringify(value);

const FEATURES = [
  {
    id: "audit-log", title: "Audit log of user logins",
    tasks: [step("schema", "database", "Audit table"), step("writer", "backend", "Record each login", { dependsOn: ["schema"], gates: ["tests"] }), step("docs", "docs", "Document the audit log", { dependsOn: ["writer"] })],
  },
  {
    id: "sessions-redis", title: "Move sessions to Redis", streams: { db: { gates: ["schema-check"] } },
    tasks: [step("migration", "database", "Sessions migration", { stream: "db" }), step("store", "backend", "Redis session store", { dependsOn: ["migration"] })],
  },
  {
    id: "rate-limits", title: "Rate limits for the public API", approval: "required",
    tasks: [step("design", "api", "Limits per key in the OpenAPI spec"), step("limiter", "backend", "Token-bucket limiter", { dependsOn: ["design"] }), step("load", "qa", "Load test at 2× the limit", { dependsOn: ["limiter"] })],
  },
  {
    id: "orders-paging", title: "Paginate the orders list", maxParallel: 2,
    tasks: [
      step("list", "api", "Orders list endpoint", { instructions: spec({ sleepMs: 800, ask: { question: "Paginate the orders list with cursors or with page numbers?", options: ["cursors", "pages"], topic: "design", context: "Cursors stay correct while orders are added; pages let people jump to page 7." } }) }),
      step("ui", "frontend", "Pager component", { dependsOn: ["list"] }),
    ],
  },
  {
    id: "checkout-cards", title: "Checkout with saved cards", maxParallel: 3, gates: ["lint"],
    tasks: [
      step("schema", "database", "Cards table and migration", { gates: ["lint"], instructions: spec({ sleepMs: 1500 }) }),
      step("spec", "api", "OpenAPI: /cards and /checkout", { instructions: spec({ sleepMs: 1200 }) }),
      step("payments", "backend", "Payment intents service", { dependsOn: ["schema", "spec"], gates: ["tests"], instructions: spec({ sleepMs: 1500 }) }),
      step("cards", "backend", "Saved cards service", { dependsOn: ["schema", "spec"], instructions: spec({ holdUntil: "release" }) }),
      step("widget", "frontend", "Card picker widget", { dependsOn: ["spec"], instructions: spec({ holdUntil: "release" }) }),
      step("checkout", "frontend", "Checkout page", { dependsOn: ["payments", "cards", "widget"] }),
      step("e2e", "qa", "End-to-end checkout tests", { dependsOn: ["checkout"] }),
      step("guide", "docs", "Payments guide", { dependsOn: ["payments", "cards"] }),
      step("review", "reviewer", "Security review", { dependsOn: ["e2e", "guide"] }),
    ],
  },
];

async function main(): Promise<void> {
  const server = await startNatsServer();
  const dir = mkdtempSync(join(tmpdir(), "baton-shots-"));
  mkdirSync(join(dir, "ws"));
  mkdirSync(join(dir, "agent-log"));
  writeFileSync(join(dir, "agent.mjs"), AGENT);
  const cfg = join(dir, "baton.yaml");
  writeFileSync(cfg, config(dir));
  const prefix = uniquePrefix("shots");
  const env = { NATS_URL: server.url, BATON_PREFIX: prefix };
  const procs = await startStack(cfg, env, ROLES.map((role) => [role, `${role}-1`] as const));
  const ui = await startUi(cfg, env);
  const nc = await connect({ servers: server.url });
  const browser = await launchBrowser();
  try {
    const js = jetstream(nc);
    for (const feature of FEATURES) {
      await js.publish(names(prefix).featureSubmit(), encode(feature));
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
    await until(nc, prefix, "audit-log", "feature.completed");
    await until(nc, prefix, "sessions-redis", "feature.failed");
    await until(nc, prefix, "orders-paging", "question.asked");
    await until(nc, prefix, "checkout-cards", "task.completed", "payments");
    await new Promise((resolve) => setTimeout(resolve, 2500));
    mkdirSync(OUT, { recursive: true });
    const page = await browser.browser.newPage();
    await page.goto(ui.url, { waitUntil: "networkidle2" });
    await page.waitForSelector('tr[data-feature-id="checkout-cards"]');
    await page.waitForSelector(".role");
    await page.screenshot({ path: join(OUT, "dashboard-features.png") });
    await page.goto(`${ui.url}#/f/checkout-cards`, { waitUntil: "networkidle2" });
    await page.waitForSelector('#dag g[data-task-id="payments"][data-state="completed"]');
    await page.click('#dag g[data-task-id="cards"]');
    await page.waitForSelector(".gate");
    await page.click(".gate summary");
    await new Promise((resolve) => setTimeout(resolve, 800));
    await page.screenshot({ path: join(OUT, "dashboard-feature.png"), fullPage: true });
    console.log(`screenshots written to ${OUT}`);
  } finally {
    await browser.close();
    await nc.close();
    await ui.proc.kill();
    writeFileSync(join(dir, "agent-log", "release"), "");
    await Promise.all(procs.map((proc) => proc.kill()));
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Waits for the feature's first event of `kind` (of task `taskId`, when given). */
async function until(nc: Awaited<ReturnType<typeof connect>>, prefix: string, featureId: string, kind: string, taskId?: string): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 60_000);
  try {
    for await (const event of featureHistory(nc, names(prefix), featureId, { follow: true, signal: abort.signal })) {
      if (event.kind === kind && (taskId === undefined || ("taskId" in event && event.taskId === taskId))) return;
    }
    throw new Error(`${featureId}: no ${kind} within 60 s`);
  } finally {
    clearTimeout(timer);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
