// Acks, naks, terms and keep-alives on a delivered JetStream message, for code that must not throw.

/**
 * Runs `settle` (e.g. `() => msg.ack()`), ignoring an error: it only throws when the connection is closing or
 * gone, and then JetStream delivers the message again after its ack wait, which is the outcome wanted anyway.
 */
export function quietly(settle: () => void): void {
  try {
    settle();
  } catch {
    // the connection is closing or gone: JetStream redelivers after ack wait
  }
}
