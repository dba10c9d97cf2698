// Error classes: two roots (terminal, retryable), flat, each with a stable `name`; and the wire form.
import type * as z from "zod";
import type { WireError } from "./protocol/common.ts";
import { WIRE_ERRORS } from "./protocol/errors.ts";

/** Do not retry: the input or the situation will not get better by trying again. */
export class TerminalError extends Error {
  override name = "TerminalError";
  code?: string;
  details?: unknown;
  constructor(message: string, opts?: { cause?: unknown; code?: string; details?: unknown }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    if (opts?.code) this.code = opts.code;
    if (opts?.details !== undefined) this.details = opts.details;
  }
}

/** May succeed on another try (network, contention, a lost worker). */
export class RetryableError extends Error {
  override name = "RetryableError";
  code?: string;
  constructor(message: string, opts?: { cause?: unknown; code?: string }) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    if (opts?.code) this.code = opts.code;
  }
}

/** A message failed validation at a process boundary; `issues` are zod's, formatted. */
export class ProtocolError extends TerminalError {
  override name = "ProtocolError";
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message, { code: WIRE_ERRORS.ProtocolError.code, details: issues });
  }
}

export class ConfigError extends TerminalError {
  override name = "ConfigError";
}

/** Serialises any thrown value for the wire; never throws. */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const out: WireError = { name: err.name, message: err.message };
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string") out.code = code;
    const details = (err as { details?: unknown }).details;
    if (details !== undefined) out.details = details;
    return out;
  }
  return { name: "Error", message: String(err) };
}

export type ZodIssues = z.core.$ZodIssue[];
