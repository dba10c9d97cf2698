// `baton submit FILE|- [--watch]`: validates locally, stores the request in JetStream, reports acceptance.
import { readFileSync } from "node:fs";
import { jetstream } from "@nats-io/jetstream";
import { parse as parseYaml } from "yaml";
import type { BatonConfig } from "../../../shared/config.ts";
import { encode } from "../../../shared/codec.ts";
import { newFeatureId } from "../../../shared/ids.ts";
import { connectNats } from "../../../shared/nats.ts";
import { checkFeatureValue } from "../../../shared/protocol/index.ts";
import { names } from "../../../shared/subjects.ts";
import { red } from "../render.ts";
import { watchFeature } from "./watch.ts";

/** Reads JSON or YAML from a file or stdin (`-`). */
export function readRequest(file: string): unknown {
  const text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
  return parseYaml(text);
}

export async function submit(cfg: Readonly<BatonConfig>, file: string, o: { watch: boolean; timeoutSeconds: number; roles: boolean }): Promise<number> {
  let raw: unknown;
  try {
    raw = readRequest(file);
  } catch (e) {
    console.error(red(`cannot read feature request ${file}: ${(e as Error).message}`));
    return 2;
  }
  // Gates are checked here only when this config defines some; the coordinator's config is the authority.
  const gates = Object.keys(cfg.gates);
  const check = checkFeatureValue(raw, { roles: o.roles ? cfg.knownRoles : undefined, gates: o.roles && gates.length ? gates : undefined });
  const size = Buffer.byteLength(JSON.stringify(raw ?? null));
  const errors = check.ok ? [] : [...check.errors];
  if (size > cfg.coordinator.maxRequestBytes) errors.push({ path: "(root)", message: `request is ${size} bytes; the limit is ${cfg.coordinator.maxRequestBytes} bytes` });
  if (!check.ok || errors.length) {
    console.error(red(`feature request ${file} is invalid:`));
    for (const e of errors) console.error(`  ${red("✗")} ${e.path}: ${e.message}`);
    return 2;
  }
  const req = { ...check.value, id: check.value.id ?? newFeatureId() };
  const n = names(cfg.prefix);
  const nc = await connectNats({ url: cfg.natsUrl, name: "baton-cli", persistent: false });
  try {
    const ack = await jetstream(nc).publish(n.featureSubmit(), encode(req), { msgID: req.id, timeout: 5000 });
    console.log(req.id);
    if (ack.duplicate) console.error(`(already submitted: feature ${req.id} runs once)`);
    if (o.watch) return (await watchFeature(nc, n, req.id)).code;
    const r = await watchFeature(nc, n, req.id, { untilAccepted: true, logs: false, timeoutMs: o.timeoutSeconds * 1000, print: (l) => console.error(l) });
    if (r.view.state === "unknown") {
      console.error(`stored, but no coordinator accepted ${req.id} within ${o.timeoutSeconds}s; it will run when one does`);
      return 0;
    }
    return r.code;
  } finally {
    await nc.close();
  }
}
