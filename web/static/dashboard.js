// The dashboard's script: each page says what it is in <body data-page>.

import { initActions } from "./actions.js";
import { initEvents } from "./events.js";
import { initExecutionDetail, initExecutionList } from "./executions.js";
import { initJobDetail } from "./job.js";
import { initJobForm } from "./job_form.js";
import { initOverview } from "./overview.js";
import { keepTimesCurrent } from "./times.js";

const PAGES = {
  overview: initOverview,
  executions: initExecutionList,
  execution: initExecutionDetail,
  events: initEvents,
  job: initJobDetail,
  "job-form": initJobForm,
};

keepTimesCurrent();
initActions();
const init = PAGES[document.body.dataset.page];
if (init) init();
document.body.dataset.ready = "true";
