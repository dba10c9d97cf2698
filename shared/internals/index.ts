// Every place Baton reaches into a library's internals: nats.js (nats.ts) and xstate (xstate.ts). Each reach has a
// test (test/unit/internals.test.ts) that fails with a clear message on a library version where it no longer holds.
export * from "./nats.ts";
export * from "./xstate.ts";
