// Where `baton ui` serves and whether it may: the config's `ui:` section with the command line's --host and --port
// on top, and the refusal to serve a non-loopback address without a token. Pure.
import { isLoopback, parsePort, type UiSettings } from "../../shared/config-observe.ts";

export interface ServeSettings {
  host: string;
  port: number;
  token?: string | undefined;
}

/** A command-line value that is wrong (exit 2 with the usage). */
export class UiUsageError extends Error {
  override name = "UiUsageError";
}

/** The config's `ui` settings with --host / --port on top; throws UiUsageError for a port that is not 0-65535. */
export function serveSettings(ui: UiSettings, flags: { host?: string | undefined; port?: string | undefined }): ServeSettings {
  let port = ui.port;
  if (flags.port !== undefined) {
    const given = parsePort(flags.port);
    if (given === undefined) throw new UiUsageError(`--port must be an integer from 0 to 65535; got ${JSON.stringify(flags.port)}`);
    port = given;
  }
  const host = flags.host?.trim() || ui.host;
  return { host, port, token: ui.token };
}

/**
 * Why the dashboard must not start with these settings: a non-loopback address without a token (anyone who can
 * reach it could cancel features and answer questions). Undefined when it may.
 */
export function refusal(settings: ServeSettings): string | undefined {
  if (isLoopback(settings.host) || settings.token) return undefined;
  return [
    `refusing to serve the dashboard on ${settings.host} without a token: anyone who can reach that address could approve, cancel and answer.`,
    "Set `ui.token` in the config or BATON_UI_TOKEN (at least 16 characters), or bind 127.0.0.1 (--host 127.0.0.1).",
  ].join("\n");
}
