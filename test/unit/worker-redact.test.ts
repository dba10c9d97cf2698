// The worker's secret redactor: which variables count as secrets, what replaces their values (also JSON-escaped,
// as they appear in log lines), that every string of a message is covered, and that the common case stays cheap.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ExecRoleConfig } from "../../shared/config.ts";
import { createRedactor, NO_SECRETS, secretsOf, workerSecrets } from "../../services/worker/redact.ts";

const KEY = "sk-ant-api03-abcdefghijklmnop";

describe("secretsOf / workerSecrets", () => {
  it("takes values of 8+ characters whose variable names look secret, case-insensitively", () => {
    const env = {
      ANTHROPIC_API_KEY: KEY, gh_token: "ghp_1234567890", DB_PASSWORD: "hunter2!!", MY_PASSWD: "p4ssw0rd", AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI",
      GOOGLE_CREDENTIALS: "{\"k\":\"v\"}xx", BASIC_AUTH: "user:pass", SHORT_TOKEN: "abc1234", PATH: "/usr/bin:/bin:/usr/local/bin", HOME: "/home/someone", UNSET_KEY: undefined,
    };
    expect(secretsOf([env]).map((secret) => secret.name)).toEqual(["ANTHROPIC_API_KEY", "gh_token", "DB_PASSWORD", "MY_PASSWD", "AWS_SECRET_ACCESS_KEY", "GOOGLE_CREDENTIALS", "BASIC_AUTH"]);
  });

  it("adds every role's env, the agent CLIs' key variables and an llm role's apiKeyEnv whatever its name", () => {
    const roles = {
      backend: ExecRoleConfig.parse({ agent: "claude-code", env: { UPSTREAM_SECRET: "role-secret-1", ANTHROPIC_BASE_URL: "http://127.0.0.1:8080" } }),
      planner: ExecRoleConfig.parse({ agent: "llm", model: "local-model", llm: { provider: "openai", apiKeyEnv: "LOCAL_LLM" } }),
    };
    const secrets = workerSecrets({ roles }, { LOCAL_LLM: "local-model-key", CODEX_API_KEY: "codex-key-123", OTHER: "not-a-secret-at-all" });
    expect(secrets.map((secret) => secret.name).sort()).toEqual(["CODEX_API_KEY", "LOCAL_LLM", "UPSTREAM_SECRET"]);
  });
});

describe("createRedactor", () => {
  const redactor = createRedactor([{ name: "ANTHROPIC_API_KEY", value: KEY }, { name: "DB_PASSWORD", value: 'pa"ss\\word' }, { name: "LONG_TOKEN", value: `${KEY}-and-more` }]);

  it("replaces every occurrence by [redacted:NAME], the longer secret whole", () => {
    expect(redactor.text(`key=${KEY} again:${KEY}.`)).toBe("key=[redacted:ANTHROPIC_API_KEY] again:[redacted:ANTHROPIC_API_KEY].");
    expect(redactor.text(`t=${KEY}-and-more`)).toBe("t=[redacted:LONG_TOKEN]");
    expect(redactor.text('db pa"ss\\word')).toBe("db [redacted:DB_PASSWORD]");
    expect(redactor.names).toEqual(["ANTHROPIC_API_KEY", "DB_PASSWORD", "LONG_TOKEN"]);
  });

  it("also in JSON-escaped form, so a log line stays valid JSON without the secret", () => {
    const line = JSON.stringify({ msg: 'connecting with pa"ss\\word', err: { stack: `Error: bad key ${KEY}` } });
    const out = redactor.text(line);
    expect(out).not.toContain(KEY);
    expect(out).not.toContain("ss\\\\word");
    expect(JSON.parse(out)).toEqual({ msg: "connecting with [redacted:DB_PASSWORD]", err: { stack: "Error: bad key [redacted:ANTHROPIC_API_KEY]" } });
  });

  it("returns the same string, and the same object, when there is nothing to redact", () => {
    const text = "nothing secret here";
    expect(redactor.text(text)).toBe(text);
    const msg = { type: "baton.v1.task_log", lines: [{ stream: "stdout", line: "ok" }], n: 3, ok: true, none: null };
    expect(redactor.value(msg)).toBe(msg);
  });

  it("redacts every string of a message: nested values, arrays and keys; numbers and booleans are kept", () => {
    const msg = {
      type: "baton.v1.task_result", summary: `done with ${KEY}`, exitCode: 1,
      error: { name: "ExitCode", message: `exited: ${KEY}`, details: [KEY, 3, false] },
      handoff: { [KEY]: { deep: [{ value: `x${KEY}x` }] }, ok: true },
      gateReport: { outputTail: `tail ${KEY}` },
    };
    const out = redactor.value(msg);
    expect(JSON.stringify(out)).not.toContain(KEY);
    expect(out).toEqual({
      type: "baton.v1.task_result", summary: "done with [redacted:ANTHROPIC_API_KEY]", exitCode: 1,
      error: { name: "ExitCode", message: "exited: [redacted:ANTHROPIC_API_KEY]", details: ["[redacted:ANTHROPIC_API_KEY]", 3, false] },
      handoff: { "[redacted:ANTHROPIC_API_KEY]": { deep: [{ value: "x[redacted:ANTHROPIC_API_KEY]x" }] }, ok: true },
      gateReport: { outputTail: "tail [redacted:ANTHROPIC_API_KEY]" },
    });
    expect(msg.summary).toBe(`done with ${KEY}`); // the input is not changed
  });

  it("treats regex metacharacters in secrets literally", () => {
    const tricky = createRedactor([{ name: "WEIRD_KEY", value: "a.b*c+d?(e)[f]{g}|h^$" }]);
    expect(tricky.text("aXb*c+d?(e)[f]{g}|h^$")).toBe("aXb*c+d?(e)[f]{g}|h^$");
    expect(tricky.text("<a.b*c+d?(e)[f]{g}|h^$>")).toBe("<[redacted:WEIRD_KEY]>");
  });

  it("never leaves a secret in any text (property)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 8, maxLength: 40 }), fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }), (secret, parts) => {
        const text = parts.join(secret);
        const out = createRedactor([{ name: "SOME_TOKEN", value: secret }]).text(text);
        return parts.length < 2 || !out.includes(secret) || text.split(secret).length !== parts.length;
      }),
    );
  });

  it("no secrets: the identity", () => {
    expect(createRedactor([])).toBe(NO_SECRETS);
    const msg = { a: KEY };
    expect(NO_SECRETS.value(msg)).toBe(msg);
  });

  it("is cheap on a 2000-character line with 20 secrets (reported, generous bound)", () => {
    // Key-like values over the alphabet of ordinary output: the regex cannot skip ahead on a rare first character.
    const keyOf = (index: number) => Array.from({ length: 32 }, (_, pos) => "abcdefghijklmnopqrstuvwxyz0123456789"[(index * 7 + pos * 13 + pos * pos) % 36]).join("");
    const many = createRedactor(Array.from({ length: 20 }, (_, index) => ({ name: `TOKEN_${index}`, value: keyOf(index) })));
    const clean = "services/worker/task-messages.ts: ordinary output 0123456789 abcdefghijklmnopqrstuvwxyz, more text; ".repeat(25).slice(0, 2000);
    const dirty = clean.slice(0, 1000) + keyOf(7) + clean.slice(1032);
    const time = (line: string) => {
      const runs = 5000;
      const start = performance.now();
      for (let run = 0; run < runs; run++) many.text(line);
      return ((performance.now() - start) / runs) * 1000;
    };
    time(clean);
    const cleanUs = time(clean);
    const dirtyUs = time(dirty);
    console.log(`redact: 2000-char line, 20 secrets: ${cleanUs.toFixed(1)} µs without a secret, ${dirtyUs.toFixed(1)} µs with one`);
    expect(many.text(dirty)).toContain("[redacted:TOKEN_7]");
    expect(cleanUs).toBeLessThan(500);
  });
});
