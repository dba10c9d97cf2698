// Who may use the dashboard. Bound to loopback without a token, only requests naming a loopback host get in (a page
// elsewhere cannot reach it through DNS rebinding); with a token, every request carries it. Pure, no I/O.
import { createHash, timingSafeEqual } from "node:crypto";
import { isLoopback } from "../../shared/config-observe.ts";

/** The cookie that keeps the token after a `?token=` visit (HttpOnly: page scripts never see it). */
export const TOKEN_COOKIE = "baton_ui_token";

export interface AuthRequest {
  /** The request's `Authorization`, `Cookie` and `Host` headers. */
  authorization?: string | undefined;
  cookie?: string | undefined;
  host?: string | undefined;
  /** The request's URL (path and query). */
  url: URL;
}

export type AuthDecision =
  /** Let it in; `setCookie` (a `?token=` visit): the Set-Cookie header value to reply with. */
  | { ok: true; setCookie?: string }
  | { ok: false; status: 401 | 403; message: string };

/**
 * True when `given` is the token. Both are hashed first, so the comparison takes the same time whatever the
 * lengths and wherever they differ. Pure.
 */
export function tokensEqual(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The value of cookie `name` in a Cookie header, URI-decoded; undefined when absent or malformed. Pure. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const index = part.indexOf("=");
    if (index < 0 || part.slice(0, index).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(index + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The host name of a Host header (`[::1]:7420` → `[::1]`, `localhost:7420` → `localhost`). Pure. */
export function hostName(header: string): string {
  if (header.startsWith("[")) return header.slice(0, header.indexOf("]") + 1);
  return header.split(":")[0] ?? "";
}

/**
 * Decides one request. Without `token`: allowed when its Host header names a loopback address, else 403. With
 * `token`: allowed when the `token` query parameter (then with the cookie to set), the Bearer header or the
 * cookie holds it, else 401. Pure.
 */
export function authorize(request: AuthRequest, token: string | undefined): AuthDecision {
  if (token === undefined) {
    const host = hostName(request.host ?? "");
    if (isLoopback(host)) return { ok: true };
    return { ok: false, status: 403, message: `host ${JSON.stringify(host)} is not a loopback address: without a token the dashboard answers only requests to 127.0.0.1 or localhost` };
  }
  const query = request.url.searchParams.get("token");
  if (query !== null && tokensEqual(query, token)) {
    return { ok: true, setCookie: `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/` };
  }
  const bearer = /^Bearer\s+(.+)$/i.exec(request.authorization ?? "")?.[1]?.trim();
  if (bearer !== undefined && tokensEqual(bearer, token)) return { ok: true };
  const cookie = cookieValue(request.cookie, TOKEN_COOKIE);
  if (cookie !== undefined && tokensEqual(cookie, token)) return { ok: true };
  return { ok: false, status: 401, message: "a token is required: open the dashboard's URL with ?token=… once, or send Authorization: Bearer …" };
}
