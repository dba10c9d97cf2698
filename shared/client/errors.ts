// What the client library throws besides ProtocolError (an invalid reply or message, from shared/codec.ts):
// nobody answered a request, or a coordinator answered with an error. Branch on `name` / `code`.
import { RetryableError, TerminalError } from "../errors.ts";
import type { WireError } from "../protocol/common.ts";

/**
 * No coordinator answered a request: none subscribes to the subject ("no responders"), or none replied
 * within the timeout. The message names the subject and the remedy. Retryable: start a coordinator.
 */
export class NoCoordinatorError extends RetryableError {
  override name = "NoCoordinatorError";
  constructor(
    readonly subject: string,
    readonly timedOutAfterMs: number | undefined,
    opts?: { cause?: unknown },
  ) {
    const what = timedOutAfterMs === undefined ? `no coordinator is listening on ${subject}` : `no coordinator answered on ${subject} within ${timedOutAfterMs}ms`;
    super(`${what}; start one: \`baton up\` (a local stack) or \`baton coordinator\``, { ...opts, code: "NO_COORDINATOR" });
  }
}

/** A coordinator answered `{ ok: false, error }`; `code` and `details` are the wire error's, `remote` all of it. */
export class RemoteError extends TerminalError {
  override name = "RemoteError";
  constructor(
    readonly subject: string,
    readonly remote: WireError,
  ) {
    super(`${subject} answered ${remote.name}${remote.code ? ` (${remote.code})` : ""}: ${remote.message}`, { code: remote.code, details: remote.details });
  }
}
