// The page's only way to the server: the public /v1 API, with the signed-in user's key.
//
// The key lives in sessionStorage: it is gone when the tab closes, it is never in a URL or a
// cookie, and it is sent only as the Authorization header of the page's own requests.

const SESSION_KEY = "callblock.session";
export const SESSION_ENDED = "The server no longer accepts your API key. Sign in again.";

export class ApiError extends Error {
  /** status 0: the server could not be reached. problem: the RFC 9457 body, if any. */
  constructor(status, problem, retryAfter = null) {
    super(problem?.detail || problem?.title || (status ? `HTTP ${status}` : "The server cannot be reached."));
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = retryAfter;
  }

  /** Field name → message, for a 422 (or a 409 naming its field). */
  get fieldErrors() {
    return this.problem.errors || {};
  }
}

export function session() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY));
  } catch {
    return null;
  }
}

// Tabs opened from a signed-in tab carry a copy of its session: signing out in one signs out
// the tabs holding the same key (by its hash: the key itself never leaves this tab's storage),
// and no other. A tab signed in as someone else, or with another key, is left alone.
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("callblock.session") : null;

async function fingerprint(credentials) {
  const bytes = new TextEncoder().encode(`${credentials.username}:${credentials.key}`);
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** This tab's key is no longer usable (the server refused it): forget it here only. */
function drop() {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Sign out: forget the key here, and in every tab holding the same one. */
export async function forget() {
  const credentials = session();
  drop();
  if (credentials && tabs) tabs.postMessage({ signedOut: await fingerprint(credentials) });
}

function basic(username, key) {
  // Basic credentials are UTF-8 (RFC 7617): btoa alone takes only Latin-1.
  const bytes = new TextEncoder().encode(`${username}:${key}`);
  return `Basic ${btoa(String.fromCharCode(...bytes))}`;
}

function headers(extra = {}, credentials = session(), signingIn = false) {
  // X-Callblock-Client: the history names the page as where its changes came from.
  const all = { Accept: "application/json", "X-Requested-With": "XMLHttpRequest", "X-Callblock-Client": "page", ...extra };
  if (!credentials) return all;
  // Signing in proves the key belongs to the username typed (Basic). After that the key alone
  // is sent (Bearer): failed sign-ins by others for the same username lock out Basic
  // attempts, not a key that is already working (docs/api.md, Authentication).
  all.Authorization = signingIn ? basic(credentials.username, credentials.key) : `Bearer ${credentials.key}`;
  return all;
}

/** Called when the server stops accepting the session's key (revoked, or a new one made). */
let onSignedOut = () => {};
export function whenSignedOut(handler) {
  onSignedOut = handler;
}

/** Another tab signed out: handler() once this tab has forgotten its key too. */
export function whenSignedOutElsewhere(handler) {
  tabs?.addEventListener("message", async (event) => {
    const credentials = session();
    if (!credentials || event.data?.signedOut !== (await fingerprint(credentials))) return;
    drop();
    handler();
  });
}

async function problemOf(response) {
  try {
    return await response.json();
  } catch {
    return { title: response.statusText };
  }
}

async function failure(response, credentials) {
  const problem = await problemOf(response);
  const retry = response.headers.get("Retry-After");
  const current = session();
  const stillSignedIn = credentials && current && current.username === credentials.username && current.key === credentials.key;
  if (response.status === 401 && stillSignedIn) {
    drop(); // other tabs with this key find out on their next call, and keep their work too
    onSignedOut(SESSION_ENDED);
  }
  return new ApiError(response.status, problem, retry === null ? null : Number(retry));
}

/** A /v1 call: path with its query, an optional JSON body; resolves to the parsed answer. */
export async function call(method, path, { query, json, credentials } = {}) {
  const given = credentials || session();
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const init = { method, headers: headers(json === undefined ? {} : { "Content-Type": "application/json" }, given, Boolean(credentials)) };
  if (json !== undefined) init.body = JSON.stringify(json);
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) throw await failure(response, credentials ? null : given);
  if (response.status === 204) return null;
  return response.json();
}

/** Checks the credentials against the server, and keeps them for this tab if they hold. */
export async function signIn(username, key) {
  const credentials = { username, key };
  const account = await call("GET", "/v1/account", { credentials });
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(credentials));
  return account;
}

/**
 * Sends a file as a request body, telling of its progress: onProgress(sent, total) while it
 * goes up, then onProgress(null) while the server reads it. Resolves to the parsed answer.
 * XMLHttpRequest, because fetch tells nothing of an upload's progress.
 */
export function upload(path, query, file, onProgress) {
  const given = session();
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const request = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    request.open("POST", url);
    for (const [name, value] of Object.entries(headers({ "Content-Type": file.type || "text/csv" }, given))) {
      request.setRequestHeader(name, value);
    }
    request.upload.addEventListener("progress", (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size));
    request.upload.addEventListener("load", () => onProgress(null));
    request.addEventListener("error", () => reject(new ApiError(0, null)));
    request.addEventListener("abort", () => reject(new ApiError(-1, { detail: "The upload was cancelled." })));
    request.addEventListener("load", async () => {
      const response = new Response(request.response, {
        status: request.status,
        headers: { "Retry-After": request.getResponseHeader("Retry-After") || "" },
      });
      if (request.status >= 200 && request.status < 300) resolve(await response.json());
      else reject(await failure(response, given));
    });
    request.send(file);
  });
  return { done, cancel: () => request.abort() };
}

/**
 * Fetches a file that needs the key (so a plain link will not do) and saves it, telling
 * onProgress(bytes received) as it comes. The file is held in memory until it is saved: about
 * 90 MB for a million entries.
 */
export async function download(path, filename, onProgress = () => {}) {
  const given = session();
  let response;
  try {
    response = await fetch(new URL(path, location.origin), { headers: headers({ Accept: "text/csv" }, given) });
  } catch {
    throw new ApiError(0, null);
  }
  if (!response.ok) throw await failure(response, given);
  const parts = [];
  let received = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    onProgress(received);
  }
  const blob = new Blob(parts, { type: "text/csv" });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  return blob.size;
}

/** What to tell a person about a failed call, when no field of theirs is to blame. */
export function explain(error) {
  if (!(error instanceof ApiError)) return `Something went wrong: ${error.message}`;
  switch (error.status) {
    case 0:
      return "The server cannot be reached. Check your connection and try again.";
    case -1:
      return error.message;
    case 401:
      return SESSION_ENDED;
    case 429:
      return error.problem.type?.endsWith("too-many-failed-authentications")
        ? `Too many failed sign-ins for this user or from this computer. Try again in ${error.retryAfter ?? 60} seconds.`
        : `Too many requests. Try again in ${error.retryAfter ?? 1} seconds.`;
    case 503:
      return "The service is unavailable just now (its database does not answer). Try again shortly.";
    default:
      return error.message;
  }
}
