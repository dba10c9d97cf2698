// Fault injection for crash tests: `BATON_FAULTS="after-write=0.05,before-ack=0.02"` makes a coordinator SIGKILL itself
// at those points with those probabilities (the chaos run and the recovery tests use it; nothing else should).
import * as z from "zod";
import { ConfigError } from "./errors.ts";

/** Crash points for fault-injection tests: `BATON_FAULTS="after-write=0.05,before-ack=0.02"`. */
export const FAULT_POINTS = ["after-write", "mid-publish", "after-publish", "before-ack"] as const;
const FaultSpec = z.partialRecord(z.enum(FAULT_POINTS), z.number().min(0).max(1));

/** Parses BATON_FAULTS; throws ConfigError naming the bad part. */
export function parseFaults(spec: string | undefined): Partial<Record<(typeof FAULT_POINTS)[number], number>> {
  if (!spec) return {};
  const raw = Object.fromEntries(spec.split(",").filter(Boolean).map((kv) => {
    const [point, probability] = kv.split("=");
    return [point?.trim(), Number(probability)];
  }));
  const parsed = FaultSpec.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`BATON_FAULTS="${spec}" is invalid: use point=probability with points ${FAULT_POINTS.join(", ")}`);
  return parsed.data;
}
