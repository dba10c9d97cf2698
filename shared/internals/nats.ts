// Baton's reaches into nats.js internals: its unexported `toJsMsg`, and the patched `RequestOne.prototype.resolver`.
// Every reach into a library's internals is in shared/internals/ (this file and xstate.ts; index.ts exports both);
// test/unit/internals.test.ts checks each against the installed versions and fails clearly when one breaks.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { JsMsg } from "@nats-io/jetstream";
import type { Msg } from "@nats-io/nats-core";
import { RequestOne } from "@nats-io/nats-core/internal";

/** The library versions these reaches were written and checked against. */
export const CHECKED_AGAINST = { "@nats-io/jetstream": "3.4", "@nats-io/nats-core": "3.4", xstate: "5.33" } as const;

// ---- nats.js: toJsMsg ---------------------------------------------------------------------------------------

/** Turns a message delivered on a pull request's inbox into a JsMsg (delivery info, ack / nak / working / term). */
export type ToJsMsg = (msg: Msg, ackTimeoutMs?: number) => JsMsg;

let toJsMsg: ToJsMsg | undefined;

/**
 * nats.js's own `toJsMsg` from lib/jsmsg.js, which the package's "exports" do not list: loaded by file path
 * so that acks stay the library's code. Loaded once; throws a clear error when the file or function is gone.
 */
export function loadToJsMsg(): ToJsMsg {
  if (toJsMsg) return toJsMsg;
  const require = createRequire(import.meta.url);
  const path = join(dirname(require.resolve("@nats-io/jetstream")), "jsmsg.js");
  let loaded: { toJsMsg?: unknown };
  try {
    loaded = require(path) as { toJsMsg?: unknown };
  } catch (err) {
    throw new Error(`@nats-io/jetstream: cannot load ${path} (Baton was written against ${CHECKED_AGAINST["@nats-io/jetstream"]}): ${(err as Error).message}`, { cause: err });
  }
  if (typeof loaded.toJsMsg !== "function") {
    throw new Error(`@nats-io/jetstream: lib/jsmsg.js has no toJsMsg (Baton was written against ${CHECKED_AGAINST["@nats-io/jetstream"]})`);
  }
  return (toJsMsg = loaded.toJsMsg as ToJsMsg);
}

// ---- nats.js: RequestOne.resolver ------------------------------------------------------------------------------

/** The fields of a RequestOne the patched resolver uses. */
export type RequestInternals = { timer?: { cancel(): void }; deferred: { resolve(value: unknown): void }; mux: { cancel(request: unknown): void } };

let requestPatched = false;

/**
 * Workaround for nats.js 3.4: a request that got its answer still ends with `cancel()`, which builds a
 * `RequestError("cancelled")` (an Error, so a stack trace) only to reject an already resolved promise.
 * Every JetStream publish and KV write is a request: that Error was 6–7% of the coordinator's CPU in the
 * benchmark's throughput profile. On success the patch does what `cancel()` does minus the unused Error;
 * errors still go through the library's own path. Idempotent: safe to call any number of times.
 * Throws when RequestOne.prototype.resolver is gone. Checked by test/integration/nats-request-patch.test.ts.
 */
export function installRequestPatch(): void {
  if (requestPatched) return;
  const resolveWithError = RequestOne.prototype.resolver as unknown;
  if (typeof resolveWithError !== "function") {
    throw new Error(`@nats-io/nats-core: RequestOne.prototype.resolver is gone (Baton patches it; written against ${CHECKED_AGAINST["@nats-io/nats-core"]})`);
  }
  RequestOne.prototype.resolver = function (this: RequestOne & RequestInternals, err: Error | null, msg: unknown) {
    if (err) return resolveWithError.call(this, err, msg as never);
    this.timer?.cancel();
    this.deferred.resolve(msg);
    this.mux.cancel(this);
  };
  requestPatched = true;
}

/** Throws a clear error unless `request` (a RequestOne) has the internal fields the patched resolver uses. */
export function assertRequestInternals(request: unknown): asserts request is RequestInternals {
  const fields = request as Partial<Record<keyof RequestInternals, unknown>>;
  const missing = [
    typeof (fields.deferred as { resolve?: unknown } | undefined)?.resolve === "function" ? undefined : "deferred.resolve",
    typeof (fields.mux as { cancel?: unknown } | undefined)?.cancel === "function" ? undefined : "mux.cancel",
    "timer" in (fields as object) ? undefined : "timer",
  ].filter(Boolean);
  if (missing.length) {
    throw new Error(`@nats-io/nats-core: a RequestOne has no ${missing.join(", ")} (Baton's resolver patch needs them; written against ${CHECKED_AGAINST["@nats-io/nats-core"]})`);
  }
}
