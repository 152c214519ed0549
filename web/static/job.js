// One job's page: definition, runs, charts and history follow the stream.

import { follow, fragmentElements, latestOnly, throttle } from "./live.js";
import { renderTimes } from "./times.js";

const REFRESH_MS = 500;

/** The job an envelope is about (executions name it in `jobId`, requests in `job.jobId`). */
function jobOf(envelope) {
  const payload = envelope.payload || {};
  return payload.jobId || (payload.job && payload.job.jobId) || null;
}

export function initJobDetail() {
  const id = document.body.dataset.jobId;
  const detail = document.querySelector("[data-job-detail]");
  const apply = latestOnly();
  const refresh = throttle((position) => {
    apply(id, () => fragmentElements(`/ui/jobs/${id}/detail`, position), (elements) => {
      if (!elements) return;
      detail.replaceChildren(...elements);
      renderTimes(detail);
    });
  }, REFRESH_MS);
  follow("**", {
    onEvent: (envelope) => jobOf(envelope) === id && refresh(envelope.position),
    onOpen: () => refresh(),
  });
  document.addEventListener("job-changed", () => refresh());
}
