// The job form: handlers of the chosen module, a JSON config editor, submit to the API.

import { call, problemText } from "./api.js";
import { initCronBuilder } from "./cron.js";
import { clearAllErrors, clearFieldError, showFieldError, showFormError, showProblemErrors } from "./form_errors.js";

export function initJobForm() {
  const form = document.querySelector("[data-job-form]");
  initHandlers(form);
  initConfigEditor(form);
  initCronBuilder(form);
  form.addEventListener("submit", (submit) => {
    submit.preventDefault();
    save(form);
  });
}

/** Offer only the handlers of the selected module. */
function initHandlers(form) {
  const module = form.querySelector("#field-moduleId");
  const handler = form.querySelector("#field-handler");
  const sync = () => {
    for (const option of handler.options) {
      const other = option.dataset.module !== module.value;
      option.hidden = other;
      option.disabled = other;
    }
    if (handler.selectedOptions[0]?.disabled) {
      const first = [...handler.options].find((option) => !option.disabled);
      handler.value = first ? first.value : "";
    }
  };
  module.addEventListener("change", sync);
  sync();
}

function initConfigEditor(form) {
  const editor = form.querySelector("#field-config");
  editor.addEventListener("input", () => {
    clearFieldError(form, "config");
    const problem = configProblem(editor.value);
    if (problem) showFieldError(form, "config", problem);
  });
}

/** Why the text is not a JSON object, or "" when it is one. */
function configProblem(text) {
  if (!text.trim()) return "";
  try {
    const value = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? "" : "must be a JSON object, like {\"key\": \"value\"}";
  } catch (error) {
    return `not valid JSON: ${error.message}`;
  }
}

function numberOrNull(text) {
  return text.trim() === "" ? null : Number(text);
}

/** The request body: the form's fields in the API's names. */
function body(form, creating) {
  const value = (name) => form.elements[name].value;
  const fields = {
    name: value("name").trim(),
    description: value("description"),
    moduleId: value("moduleId"),
    handler: value("handler"),
    schedule: value("schedule").trim() || null,
    timezone: value("timezone").trim() || "UTC",
    overlap: value("overlap"),
    config: value("config").trim() ? JSON.parse(value("config")) : {},
  };
  for (const name of ["timeout", "retries"]) {
    const number = numberOrNull(value(name));
    if (number !== null || creating) fields[name] = number;
  }
  const backoff = present({ baseMs: numberOrNull(value("backoff")), maxMs: numberOrNull(value("backoffMax")) });
  if (backoff) fields.backoff = backoff;
  fields.misfire = present({
    graceMs: numberOrNull(value("misfire")),
    catchUp: value("catchUp"),
    limit: numberOrNull(value("catchUpLimit")),
  });
  fields.triggers = lines(value("triggers"));
  fields.webhooks = lines(value("webhooks"));
  if (creating) fields.enabled = form.elements.enabled.checked;
  return fields;
}

/** The object without its empty (null) entries, or null when nothing is left: the server keeps
 * (or defaults) what is not sent. */
function present(object) {
  const kept = Object.fromEntries(Object.entries(object).filter(([, entry]) => entry !== null));
  return Object.keys(kept).length ? kept : null;
}

function lines(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}

async function save(form) {
  clearAllErrors(form);
  const problem = configProblem(form.elements.config.value);
  if (problem) {
    showFieldError(form, "config", problem);
    showFormError(form, "The config is not a JSON object yet.");
    return form.elements.config.focus();
  }
  const { jobId, version } = form.dataset;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  const result = jobId
    ? await call("PUT", `/jobs/${jobId}`, { body: body(form, false), headers: { "If-Match": `"${version}"` } })
    : await call("POST", "/jobs", { body: body(form, true) });
  button.disabled = false;
  if (result.ok) return window.location.assign(`/jobs/${result.data.id}`);
  showFailure(form, result);
}

function showFailure(form, result) {
  if (result.status === 412) {
    return showFormError(form, "Someone changed this job meanwhile. Reload the page to edit the new version.");
  }
  if (result.status !== 422) return showFormError(form, problemText(result));
  const unplaced = showProblemErrors(form, result.data.errors);
  showFormError(form, "Please correct the highlighted fields.", unplaced);
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus();
}
