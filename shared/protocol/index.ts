// The wire protocol: zod schemas are the source of truth (JSON Schema in docs/schemas is generated).
export * from "./common.ts";
export * from "./feature.ts";
export * from "./gates.ts";
export * from "./task.ts";
export * from "./events.ts";
export * from "./control.ts";
