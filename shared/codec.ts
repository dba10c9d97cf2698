// JSON codec for NATS payloads: encode values, and decode = parse + validate at the boundary.
import type * as z from "zod";
import { ProtocolError } from "./errors.ts";
import { formatPath } from "./protocol/common.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encode(value: unknown): Uint8Array {
  return enc.encode(JSON.stringify(value));
}

/** Parses JSON bytes and validates them; throws ProtocolError naming every problem. */
export function decode<S extends z.ZodType>(schema: S, data: Uint8Array | string, what = "message"): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(typeof data === "string" ? data : dec.decode(data));
  } catch (err) {
    throw new ProtocolError(`${what}: malformed JSON: ${(err as Error).message}`, [{ path: "(root)", message: "malformed JSON" }]);
  }
  return validate(schema, json, what);
}

/** Validates an already-parsed value; throws ProtocolError naming every problem. */
export function validate<S extends z.ZodType>(schema: S, json: unknown, what = "message"): z.infer<S> {
  const result = schema.safeParse(json);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  const first = issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join("; ");
  throw new ProtocolError(`${what} failed validation: ${first}${issues.length > 3 ? ` (+${issues.length - 3} more)` : ""}`, issues);
}

export function decodeText(data: Uint8Array): string {
  return dec.decode(data);
}
