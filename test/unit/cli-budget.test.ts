// `baton budget`'s command line: the limits become the control verb's BudgetChange; a malformed or missing limit is a
// usage error (exit 2) that says what is expected, before anything is sent.
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../services/cli/args.ts";
import { budgetChange } from "../../services/cli/commands/budget.ts";
import { BudgetChange } from "../../shared/protocol/index.ts";

const change = (...argv: string[]) => budgetChange(parseCommand("budget", ["f1", ...argv]));
const refusal = (...argv: string[]) => {
  try {
    change(...argv);
  } catch (err) {
    expect((err as Error).name).toBe("UsageError");
    return (err as Error).message;
  }
  throw new Error(`accepted: ${argv.join(" ")}`);
};

describe("baton budget", () => {
  it("turns the flags into the new limits, for the feature or one task", () => {
    expect(change("--tokens", "20000")).toEqual({ tokens: 20_000 });
    expect(change("--cost-usd", "2.5", "--wall-seconds", "600", "--task", "api")).toEqual({ taskId: "api", costUsd: 2.5, wallSeconds: 600 });
    expect(BudgetChange.safeParse(change("--cost-usd", ".75")).success).toBe(true);
  });

  it("refuses a missing or malformed limit, naming what it takes", () => {
    expect(refusal()).toBe("name at least one limit: --tokens N, --cost-usd X or --wall-seconds S");
    expect(refusal("--task", "api")).toBe("name at least one limit: --tokens N, --cost-usd X or --wall-seconds S");
    expect(refusal("--tokens", "1e6")).toMatch(/^--tokens needs a whole number from 1/);
    expect(refusal("--tokens", "0")).toMatch(/^--tokens needs a whole number from 1/);
    expect(refusal("--cost-usd=-1")).toBe('--cost-usd needs a positive number of dollars, not "-1"');
    expect(refusal("--cost-usd", "0")).toBe('--cost-usd needs a positive number of dollars, not "0"');
    expect(refusal("--wall-seconds", "99999999")).toBe('--wall-seconds needs a whole number from 1 to 2592000, not "99999999"');
    expect(refusal("--tokens", "5", "--task", "no such/id")).toBe('"no such/id" is not a task id ([A-Za-z0-9_-]{1,64})');
    expect(() => parseCommand("budget", ["f1", "--reason", "x"])).toThrow("budget does not take --reason");
  });
});
