// The events page: new events join the list and the statistics follow, without a reload.

import { follow, fragment, refill, throttle } from "./live.js";
import { renderTimes } from "./times.js";

const STATS_MS = 1000;
// Almanac's own events are on the stream too; the page lists events on the bus.
const RESERVED = new Set(["job", "execution", "module", "almanac"]);

export function initEvents() {
  const page = eventsPage();
  const refreshStats = throttle((position) => refill(page.stats, "/ui/events/stats", position), STATS_MS);
  follow(page.pattern, {
    onEvent: (envelope) => {
      if (RESERVED.has(envelope.name.split(".")[0])) return;
      refreshStats(envelope.position);
      addRow(page, envelope);
    },
    onOpen: () => {
      refreshStats();
      resyncRows(page);
    },
  });
}

/** The page's parts and filters (the filters are checked again by the server). */
function eventsPage() {
  const { liveRows, filterName, filterSource, filterPattern } = document.body.dataset;
  const filters = new URLSearchParams();
  if (filterName) filters.set("name", filterName);
  if (filterSource) filters.set("source", filterSource);
  if (filterPattern) filters.set("pattern", filterPattern);
  return {
    rows: document.querySelector("[data-event-rows]"),
    stats: document.querySelector("[data-event-stats]"),
    live: liveRows === "on",
    pattern: filterPattern || "**",
    filters,
  };
}

async function addRow(page, envelope) {
  const shown = () => page.rows.querySelector(`[data-event-row="${envelope.id}"]`);
  if (!page.live || shown()) return;
  const { element } = await fragment(`/ui/events/${envelope.id}/row?${page.filters}`, envelope.position);
  if (!element || shown()) return;
  // Answers may come back out of order: keep the newest (highest position) first.
  const older = [...page.rows.children].find((row) => Number(row.dataset.position) < envelope.position);
  page.rows.insertBefore(element, older || null);
  renderTimes(element);
  showEmpty(page);
}

async function resyncRows(page) {
  if (!page.live) return;
  await refill(page.rows, `/ui/events/rows?${page.filters}`);
  renderTimes(page.rows);
  showEmpty(page);
}

function showEmpty(page) {
  document.querySelector("[data-empty-note]").hidden = page.rows.children.length > 0;
}
