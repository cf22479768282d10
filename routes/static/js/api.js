// HTTP calls to this server: JSON in and out, the error envelope turned into ApiError,
// the access token attached and refreshed once on a 401.
import { session } from "./session.js";

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** The message plus the field errors of `details.fields` ("quantity: must be a multiple of 5"). */
  get text() {
    const fields = Array.isArray(this.details?.fields) ? this.details.fields : [];
    const extra = fields.filter((d) => d && d.message).map((d) => (d.field && d.field !== "body" ? `${d.field}: ${d.message}` : d.message));
    return [this.message, ...extra].join(" · ");
  }
}

let refreshing = null;

/** Exchange the refresh token for a new access token (one request at a time); true on success. */
export function refreshAccess() {
  const token = session.refreshToken();
  if (!token) return Promise.resolve(false);
  refreshing ??= fetch("/auth/refresh", { method: "POST", headers: { Authorization: `Bearer ${token}`, Accept: "application/json" } })
    .then(async (res) => {
      if (!res.ok) return false;
      const body = await res.json();
      session.setAccessToken(body.data.access_token);
      return true;
    })
    .catch(() => false)
    .finally(() => { refreshing = null; });
  return refreshing;
}

/** Call the API; resolves to the success body, rejects with ApiError. `auth` sends the access token. */
export async function api(path, { method = "GET", body, auth = false } = {}, retried = false) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && session.accessToken()) headers.Authorization = `Bearer ${session.accessToken()}`;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "NETWORK_ERROR", "Cannot reach the server. Check the connection and try again.");
  }
  if (res.status === 401 && auth && !retried && session.refreshToken()) {
    if (await refreshAccess()) return api(path, { method, body, auth }, true);
    session.clear();
  }
  const payload = await res.json().catch(() => null);
  if (!res.ok) {
    const error = payload?.error ?? {};
    throw new ApiError(res.status, error.code ?? "HTTP_ERROR", error.message ?? `Request failed (${res.status})`, error.details);
  }
  return payload;
}

/** Shorthand for signed-in calls. */
export const authed = (path, options = {}) => api(path, { ...options, auth: true });

/** Download a signed-in file (a CSV export): fetched with the Bearer header (a link could not send it), saved as
 * `filename`. Rejects with ApiError. */
export async function download(path, filename, retried = false) {
  const token = session.accessToken();
  let res;
  try {
    res = await fetch(path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  } catch {
    throw new ApiError(0, "NETWORK_ERROR", "Cannot reach the server. Check the connection and try again.");
  }
  if (res.status === 401 && !retried && (await refreshAccess())) return download(path, filename, true);
  if (!res.ok) {
    const payload = await res.json().catch(() => null);
    throw new ApiError(res.status, payload?.error?.code ?? "HTTP_ERROR", payload?.message ?? `Download failed (${res.status})`);
  }
  const url = URL.createObjectURL(await res.blob());
  const link = Object.assign(document.createElement("a"), { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 30_000);
}
