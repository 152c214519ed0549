// The executions list and one execution: rows, status and logs follow the stream.

import { follow, fragment, latestOnly, refill, throttle } from "./live.js";
import { renderTimes } from "./times.js";

const LOG_GRACE_MS = 5000;

export function initExecutionList() {
  const list = executionList();
  const apply = latestOnly();
  const refreshRow = (id, position) =>
    apply(id, () => fragment(`/ui/executions/${id}/row?${list.filters}`, position), (answer) => showRow(list, id, answer));
  follow("execution.*", {
    onEvent: (envelope) => refreshRow(envelope.payload.executionId, envelope.position),
    onOpen: () => resyncRows(list),
  });
}

/** The list's rows and filters; only the first page takes in new executions. */
function executionList() {
  const { liveRows, filterStatus, filterJob } = document.body.dataset;
  const filters = new URLSearchParams();
  if (filterStatus) filters.set("status", filterStatus);
  if (filterJob) filters.set("jobId", filterJob);
  return { rows: document.querySelector("[data-execution-rows]"), firstPage: liveRows === "on", filters };
}

/** Put a row as the server rendered it; 204 means it no longer matches the filters. */
function showRow(list, id, { status, element }) {
  const existing = list.rows.querySelector(`[data-execution-row="${id}"]`);
  if (status === 204 && existing) existing.remove();
  if (element && existing) existing.replaceWith(element);
  else if (element && list.firstPage) list.rows.prepend(element);
  if (element) renderTimes(element);
  showEmpty(list.rows);
}

async function resyncRows(list) {
  if (!list.firstPage) return;
  await refill(list.rows, `/ui/executions/rows?${list.filters}`);
  renderTimes(list.rows);
  showEmpty(list.rows);
}

function showEmpty(rows) {
  const note = document.querySelector("[data-empty-note]");
  if (note) note.hidden = rows.children.length > 0;
}

export function initExecutionDetail() {
  const id = document.body.dataset.executionId;
  const summary = document.querySelector("[data-execution-summary]");
  const apply = latestOnly();
  const logs = followLogs(id, Number(document.body.dataset.lastSeq || 0));

  const show = ({ element }) => {
    if (!element) return;
    summary.replaceChildren(element);
    renderTimes(summary);
    if (element.dataset.active === "false") logs.finish();
  };
  const refresh = (position) => apply(id, () => fragment(`/ui/executions/${id}/summary`, position), show);
  follow("execution.*", {
    onEvent: (envelope) => envelope.payload.executionId === id && refresh(envelope.position),
    onOpen: () => refresh(),
  });
  document.addEventListener("execution-changed", () => refresh());
}

/** Tail the execution's log lines; `finish()` stops shortly after the run ended. */
function followLogs(id, afterSeq) {
  const list = document.querySelector("[data-log-lines]");
  const template = document.querySelector("[data-log-template]");
  let last = afterSeq;
  const source = new EventSource(`/api/v1/executions/${id}/logs/stream?after=${afterSeq}`);
  source.addEventListener("log", (message) => {
    const line = JSON.parse(message.data);
    if (line.seq <= last) return;
    last = line.seq;
    list.append(logLine(template, line));
    document.querySelector("[data-logs-empty]").hidden = true;
    keepBottomInView(list);
  });
  window.addEventListener("pagehide", () => source.close());
  // Lines are flushed in batches: the last may arrive just after the run ends.
  const finish = throttle(() => source.close(), LOG_GRACE_MS);
  return { finish };
}

function logLine(template, line) {
  const item = template.content.firstElementChild.cloneNode(true);
  const at = new Date(line.at);
  item.dataset.seq = line.seq;
  item.className = `log level-${String(line.level).toLowerCase()}`;
  item.querySelector(".log-at").setAttribute("datetime", line.at);
  item.querySelector(".log-at").textContent = at.toISOString().slice(11, 19);
  item.querySelector(".log-level").textContent = String(line.level).toUpperCase();
  item.querySelector(".log-message").textContent = line.message;
  const fields = line.fields && Object.keys(line.fields).length ? JSON.stringify(line.fields) : "";
  item.querySelector(".log-fields").textContent = fields;
  return item;
}

function keepBottomInView(list) {
  const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  if (nearBottom) list.scrollTop = list.scrollHeight;
}
