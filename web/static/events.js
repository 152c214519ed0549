// The events page: new events join the list and the statistics follow, without a reload.

import { follow, fragment, refill, throttle } from "./live.js";
import { renderTimes } from "./times.js";

const STATS_MS = 1000;
// Almanac's own events are on the stream too; the page lists events on the bus.
const RESERVED = new Set(["job", "execution", "module", "almanac"]);

export function initEvents() {
  const rows = document.querySelector("[data-event-rows]");
  const stats = document.querySelector("[data-event-stats]");
  const { liveRows, filterName, filterSource, filterPattern } = document.body.dataset;
  const filters = new URLSearchParams();
  if (filterName) filters.set("name", filterName);
  if (filterSource) filters.set("source", filterSource);
  if (filterPattern) filters.set("pattern", filterPattern);
  const refreshStats = throttle(() => refill(stats, "/ui/events/stats"), STATS_MS);
  const addRow = async (envelope) => {
    if (liveRows !== "on" || rows.querySelector(`[data-event-row="${envelope.id}"]`)) return;
    const { element } = await fragment(`/ui/events/${envelope.id}/row?${filters}`);
    if (!element || rows.querySelector(`[data-event-row="${envelope.id}"]`)) return;
    // Answers may come back out of order: keep the newest (highest position) first.
    const older = [...rows.children].find((row) => Number(row.dataset.position) < envelope.position);
    rows.insertBefore(element, older || null);
    renderTimes(element);
    document.querySelector("[data-empty-note]").hidden = true;
  };
  const resync = async () => {
    refreshStats();
    if (liveRows !== "on") return;
    await refill(rows, `/ui/events/rows?${filters}`);
    renderTimes(rows);
    document.querySelector("[data-empty-note]").hidden = rows.children.length > 0;
  };
  follow(filterPattern || "**", {
    onEvent: (envelope) => {
      if (RESERVED.has(envelope.name.split(".")[0])) return;
      refreshStats();
      addRow(envelope);
    },
    onOpen: resync,
  });
}
