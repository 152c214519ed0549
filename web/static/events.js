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
  let position = 0;

  const refreshStats = throttle(() => refill(stats, `/ui/events/stats?after=${position}`), STATS_MS);
  const addRow = async (envelope) => {
    if (liveRows !== "on" || rows.querySelector(`[data-event-row="${envelope.id}"]`)) return;
    const query = new URLSearchParams(filters);
    query.set("after", envelope.position);
    const { element } = await fragment(`/ui/events/${envelope.id}/row?${query}`);
    if (!element || rows.querySelector(`[data-event-row="${envelope.id}"]`)) return;
    rows.prepend(element);
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
      position = Math.max(position, envelope.position);
      refreshStats();
      addRow(envelope);
    },
    onOpen: resync,
  });
}
