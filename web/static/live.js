// Live updates: one EventSource per page on /api/v1/stream, and fragments from the server.

const STREAM = "/api/v1/stream";

/** Follow envelopes whose name matches `pattern`; `onOpen` runs on every (re)connection. */
export function follow(pattern, { onEvent, onOpen }) {
  let source = null;
  const open = () => {
    source = new EventSource(`${STREAM}?pattern=${encodeURIComponent(pattern)}`);
    source.addEventListener("open", () => {
      showState("Live", "live");
      if (onOpen) onOpen();
    });
    source.addEventListener("error", () => showState("Reconnecting…", "down"));
    source.addEventListener("event", (message) => onEvent(JSON.parse(message.data)));
  };
  // Browsers allow few connections per host: hidden tabs give theirs back.
  document.addEventListener("visibilitychange", () => {
    if (document.hidden && source) {
      source.close();
      source = null;
    } else if (!document.hidden && !source) {
      open();
    }
  });
  window.addEventListener("pagehide", () => source && source.close());
  open();
  return { close: () => source && source.close() };
}

/** Show whether live updates flow, in the top bar. */
export function showState(text, state) {
  const badge = document.querySelector("[data-live-state]");
  if (!badge) return;
  badge.hidden = false;
  badge.textContent = text;
  badge.dataset.state = state;
}

/**
 * GET a fragment as of `position`: the store position of the stream event that asks for it
 * (the server waits until its read models show that event; without one, everything so far).
 */
function getFragment(url, position) {
  const [path, query] = url.split("?");
  const params = new URLSearchParams(query);
  if (Number.isInteger(position)) params.set("at", position);
  const search = params.toString();
  return fetch(search ? `${path}?${search}` : path, { headers: { Accept: "text/html" } });
}

/** GET a fragment; resolves to {status, element} (element is null for 204 or errors). */
export async function fragment(url, position) {
  const response = await getFragment(url, position);
  if (response.status !== 200) return { status: response.status, element: null };
  return { status: 200, element: toElement(await response.text()) };
}

/** All top-level elements of a fragment of HTML. */
export function toElements(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return [...template.content.children];
}

export function toElement(html) {
  return toElements(html)[0] || null;
}

/** GET a fragment of several elements; null for 204 or errors. */
export async function fragmentElements(url, position) {
  const response = await getFragment(url, position);
  if (response.status !== 200) return null;
  return toElements(await response.text());
}

/** Replace the children of `container` with those of a fragment. */
export async function refill(container, url, position) {
  const elements = await fragmentElements(url, position);
  if (elements) container.replaceChildren(...elements);
  return elements !== null;
}

/** Call `action` at most once per `wait` ms, with the latest arguments. */
export function throttle(action, wait) {
  let timer = null;
  let latest = [];
  return (...args) => {
    latest = args;
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      action(...latest);
    }, wait);
  };
}

/**
 * Apply only the answer to the newest request per key; older ones that finish late are dropped.
 * The server answers a fragment as of the position of the event that asked for it, and those
 * only grow, so the newest request's answer shows every event announced before it was made.
 */
export function latestOnly() {
  const issued = new Map();
  return async (key, request, apply) => {
    const ticket = (issued.get(key) || 0) + 1;
    issued.set(key, ticket);
    const result = await request();
    if (issued.get(key) === ticket) apply(result);
  };
}
