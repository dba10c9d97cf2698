// Request/reply with the coordinators: send one request, validate the reply with zod, and turn "nobody
// answered" (no responders, or no reply in time) into a NoCoordinatorError naming the subject.
import { errors, type Msg, type NatsConnection } from "@nats-io/nats-core";
import type * as z from "zod";
import { decode, encode } from "../codec.ts";
import { NoCoordinatorError } from "./errors.ts";

/** How long a client waits for a coordinator's reply unless told otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

/**
 * Sends `body` (JSON) to `subject` and returns the reply validated by `reply`. Throws NoCoordinatorError
 * when nobody answers, ProtocolError when the reply is not valid JSON of that shape. Sends exactly one
 * request; never retries.
 */
export async function ask<S extends z.ZodType>(
  nc: NatsConnection,
  subject: string,
  body: unknown,
  reply: S,
  opts: { what: string; timeoutMs?: number | undefined },
): Promise<z.infer<S>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  let msg: Msg;
  try {
    msg = await nc.request(subject, encode(body), { timeout: timeoutMs });
  } catch (err) {
    if ((err instanceof errors.RequestError && err.isNoResponders()) || err instanceof errors.NoRespondersError) {
      throw new NoCoordinatorError(subject, undefined, { cause: err });
    }
    if (err instanceof errors.TimeoutError) throw new NoCoordinatorError(subject, timeoutMs, { cause: err });
    throw err;
  }
  return decode(reply, msg.data, `${opts.what} reply on ${subject}`);
}
