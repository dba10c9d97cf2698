// The coordinator's runtime: the apply loop with compare-and-set, the per-feature queue, the hot cache, the
// journal store, checkpoints, recovery, timers, effect handlers, ingress and the read-model API.
export { FeatureLoop, type ApplyOptions, type ApplyResult, type FaultPoint, type LoopHooks } from "./apply-loop.ts";
export { CHECKPOINT_EVERY } from "./checkpointer.ts";
export { carryOut, natsEffects, type EffectHandler, type EffectHandlers } from "./effects.ts";
export { Ingress, generatedFeatureId, type IngressOptions } from "./ingress.ts";
export { FeatureStore, type JournalEntry, type Loaded } from "./journal-store.ts";
export { loadFeature } from "./load-feature.ts";
export { DEFAULT_LIST_LIMIT, getFeature, listSummaries, serveReadModel } from "./read-api.ts";
export type { Cached } from "./snapshot-cache.ts";
export { Timers } from "./timers.ts";
