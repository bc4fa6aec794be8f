// The HTTP API and its event stream: token on 401, form-encoded commands, one shared EventSource
// (opened with a one-use ticket when a token is in use).
import { askToken } from "./dialogs.js";

const TOKEN_KEY = "tron.token";
let tokenPrompt = null;

export class ApiError extends Error {
  constructor(status, message, body = {}) {
    super(message);
    this.status = status;
    this.body = body; // e.g. a config upload's `problems`
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

// Concurrent 401s share one prompt: the user is asked once per session.
async function obtainToken() {
  tokenPrompt ||= askToken().finally(() => {
    tokenPrompt = null;
  });
  const value = await tokenPrompt;
  if (!value) throw new ApiError(401, "A token is required");
  sessionStorage.setItem(TOKEN_KEY, value);
  restartStream();
}

async function send(path, init = {}, retried = false) {
  const headers = { Accept: "application/json", ...(init.headers || {}) };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401 && !retried) {
    sessionStorage.removeItem(TOKEN_KEY);
    await obtainToken();
    return send(path, init, true);
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error || response.statusText, body);
  return body;
}

export function getJson(path, params = {}) {
  const query = new URLSearchParams(params).toString();
  return send(query ? `${path}?${query}` : path);
}

export function post(path, form) {
  return send(path, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

export function command(path, name) {
  return post(path, { command: name });
}

const enc = encodeURIComponent;

export const paths = {
  job: (job) => `/api/jobs/${enc(job)}`,
  run: (job, run) => `/api/jobs/${enc(job)}/${enc(run)}`,
  action: (job, run, action) => `/api/jobs/${enc(job)}/${enc(run)}/${enc(action)}`,
  history: (job, action) => `/api/jobs/${enc(job)}/${enc(action)}`,
  output: (job, run, action) => `/api/jobs/${enc(job)}/${enc(run)}/${enc(action)}/output`,
  why: (job) => `/api/jobs/${enc(job)}/why`,
  audit: (job) => `/api/jobs/${enc(job)}/history`,
  silence: (job) => `/api/jobs/${enc(job)}/silence`,
};

// Ids are dot-separated and names have no dots (spec 6): ns.job.N[.action].
export function splitRunId(id) {
  const parts = id.split(".");
  return { job: parts.slice(0, 2).join("."), run: parts[2], action: parts[3] };
}

const listeners = new Set();
let source = null;
let opening = null;
let retry = null;
let ticker = null;
let degradedUntil = 0;
const POLL_MS = 3000;

// With a token, the stream opens with a one-use ticket: EventSource cannot send headers,
// and the token must not sit in a URL (logs, history).
async function streamUrl() {
  if (!token()) return "/api/stream";
  const { ticket } = await post("/api/stream/ticket", {});
  return `/api/stream?ticket=${enc(ticket)}`;
}

function degrade() {
  document.body.classList.add("offline");
  degradedUntil = Date.now() + 5 * POLL_MS;
}

function retryLater() {
  clearTimeout(retry);
  retry = setTimeout(() => {
    retry = null;
    if (listeners.size && !opening) restartStream();
  }, POLL_MS);
}

async function openStream() {
  let url;
  try {
    url = await streamUrl();
  } catch {
    degrade();
    retryLater();
    return;
  }
  if (!listeners.size || source) return;
  const opened = new EventSource(url);
  source = opened;
  for (const type of ["job_run", "action_run", "trigger", "config"]) {
    opened.addEventListener(type, (event) => dispatch(type, event.data));
  }
  opened.onopen = () => document.body.classList.remove("offline");
  opened.onerror = () => {
    degrade();
    // EventSource retries by itself, except after a refusal (a used ticket, a restart of
    // trond with another token): then it is closed, and a new one is opened later.
    if (opened.readyState === EventSource.CLOSED && source === opened) {
      source = null;
      retryLater();
    }
  };
}

function startStream() {
  opening ||= openStream().finally(() => {
    opening = null;
  });
  // While the stream keeps failing, pages get a "poll" event instead and refetch.
  ticker ||= setInterval(() => {
    if (Date.now() < degradedUntil) for (const listener of listeners) listener("poll", {});
  }, POLL_MS);
}

function restartStream() {
  if (source) source.close();
  clearInterval(ticker);
  ticker = null;
  source = null;
  if (listeners.size) startStream();
}

function dispatch(type, data) {
  let payload;
  try {
    payload = JSON.parse(data);
  } catch {
    return;
  }
  for (const listener of listeners) listener(type, payload);
}

// Returns the function that unsubscribes.
export function subscribe(listener) {
  listeners.add(listener);
  if (!source && !opening) startStream();
  return () => listeners.delete(listener);
}
