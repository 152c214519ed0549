// The overview: its panel is re-rendered by the server as events arrive.

import { follow, refill, throttle } from "./live.js";
import { renderTimes } from "./times.js";

const REFRESH_MS = 1000;

export function initOverview() {
  const panel = document.querySelector("[data-overview-panel]");
  const refresh = throttle(async (position) => {
    if (await refill(panel, "/ui/overview", position)) renderTimes(panel);
  }, REFRESH_MS);
  follow("**", { onEvent: (envelope) => refresh(envelope.position), onOpen: () => refresh() });
}
