// Whether the coordinator exports traces, read from the standard OpenTelemetry environment variables (OTEL_*):
// a pure function of the environment it is given (the process's main passes process.env). No SDK is loaded here.

/** Traces off: why (logged at start-up when some OTEL_* variable was set, so an operator can tell). */
export interface TracingOff {
  enabled: false;
  reason: string;
  warnings: string[];
}

/** Traces on: OTLP/HTTP with JSON bodies to `url`, spans of service `serviceName`. */
export interface TracingOn {
  enabled: true;
  /** The traces URL (…/v1/traces). */
  url: string;
  protocol: "http/json";
  serviceName: string;
  /** From OTEL_RESOURCE_ATTRIBUTES (service.name left out: it is `serviceName`). */
  resourceAttributes: Record<string, string>;
  /** Settings that were not taken as given (e.g. a protocol Baton does not send): log them. */
  warnings: string[];
}

export type TracingSettings = TracingOff | TracingOn;

export const DEFAULT_SERVICE_NAME = "baton-coordinator";

type Env = Readonly<Record<string, string | undefined>>;

/** The value of `name` in `env`, trimmed; empty counts as unset (as the OpenTelemetry SDKs do). */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** `key=value,key2=value2` with percent-encoded values (the W3C baggage octets OTEL_RESOURCE_ATTRIBUTES uses). */
export function parseResourceAttributes(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (text ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    const raw = pair.slice(at + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // not percent-encoded after all: kept as written
    }
    if (key) out[key] = value;
  }
  return out;
}

/** The traces URL the OTLP/HTTP exporter would use: the per-signal endpoint as given, else the base endpoint + /v1/traces. */
function tracesUrl(env: Env): { url?: string; from?: string } {
  const specific = read(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  if (specific) return { url: specific, from: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" };
  const base = read(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (base) return { url: `${base.endsWith("/") ? base : `${base}/`}v1/traces`, from: "OTEL_EXPORTER_OTLP_ENDPOINT" };
  return {};
}

/** OTEL_TRACES_EXPORTER: unset or a list holding `otlp` → on; `none` → off; anything else is not something Baton sends. */
function exporterChoice(env: Env, warnings: string[]): string | undefined {
  const names = (read(env, "OTEL_TRACES_EXPORTER") ?? "otlp").split(",").map((name) => name.trim().toLowerCase()).filter(Boolean);
  if (names.includes("none")) return "OTEL_TRACES_EXPORTER=none";
  if (!names.includes("otlp")) return `OTEL_TRACES_EXPORTER=${names.join(",")}: Baton exports traces only with otlp`;
  const others = names.filter((name) => name !== "otlp");
  if (others.length) warnings.push(`OTEL_TRACES_EXPORTER: only otlp is used (not ${others.join(", ")})`);
  return undefined;
}

/**
 * Reads the tracing settings from `env`. Traces are on only when OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
 * OTEL_EXPORTER_OTLP_ENDPOINT names an http(s) URL, OTEL_TRACES_EXPORTER (if set) includes `otlp` and not `none`,
 * OTEL_SDK_DISABLED is not `true`, and the protocol is not grpc. Baton sends OTLP/HTTP with JSON bodies: a protocol
 * of http/protobuf is answered with a warning (OTLP/HTTP receivers take both). Pure; never throws.
 */
export function tracingSettingsFromEnv(env: Env): TracingSettings {
  const warnings: string[] = [];
  const off = (reason: string): TracingOff => ({ enabled: false, reason, warnings });
  if (read(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return off("OTEL_SDK_DISABLED=true");
  const { url, from } = tracesUrl(env);
  if (!url) return off("no OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const refused = exporterChoice(env, warnings);
  if (refused) return off(refused);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return off(`${from} is not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return off(`${from} is not an http(s) URL: ${url}`);
  const protocol = read(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") ?? read(env, "OTEL_EXPORTER_OTLP_PROTOCOL");
  if (protocol === "grpc") return off("OTEL_EXPORTER_OTLP_PROTOCOL=grpc: Baton sends OTLP over HTTP only (http/json; point the endpoint at the receiver's HTTP port, usually 4318)");
  if (protocol && protocol !== "http/json") warnings.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol}: Baton sends http/json (OTLP/HTTP receivers accept it)`);
  const resource = parseResourceAttributes(read(env, "OTEL_RESOURCE_ATTRIBUTES"));
  const serviceName = read(env, "OTEL_SERVICE_NAME") ?? resource["service.name"] ?? DEFAULT_SERVICE_NAME;
  delete resource["service.name"];
  return { enabled: true, url: parsed.href, protocol: "http/json", serviceName, resourceAttributes: resource, warnings };
}
