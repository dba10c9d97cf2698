// Identifiers minted by Baton itself.

/** A fresh, roughly time-sortable, subject-safe feature id, e.g. `f-mwpzbd93-k3x9q2`. */
export function newFeatureId(): string {
  return `f-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}
