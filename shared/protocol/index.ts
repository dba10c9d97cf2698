// The wire protocol: zod schemas are the source of truth (JSON Schema in docs/schemas is generated).
export * from "./common.ts";
export * from "./feature.ts";
export * from "./gates.ts";
export * from "./task.ts";
export * from "./events.ts";
export * from "./control.ts";
export * from "./budget.ts";
export * from "./errors.ts";
export * from "./msg-ids.ts";
export * from "./workers.ts";
export * from "./views.ts";
export * from "./workspace.ts";
export * from "./planning.ts";
export * from "./plan.ts";
