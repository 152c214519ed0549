// The schedule: presets, a visual cron builder, and the server's preview as you type.

import { clearFieldError, showFieldError } from "./form_errors.js";
import { inWords } from "./times.js";

const PARTS = ["second", "minute", "hour", "day", "month", "weekday"];
const PREVIEW_DELAY_MS = 250;
const MANUAL_WORDS = "No schedule: runs only when started by hand (Run now) or by an event trigger.";
const UNAVAILABLE = "The preview is unavailable right now.";

export function initCronBuilder(form) {
  const fields = scheduleFields(form);
  const preview = previewer(form);
  const changed = () => preview(fields.expression.value, fields.timezone.value);
  fields.choice.addEventListener("change", () => {
    applyChoice(fields);
    changed();
  });
  for (const input of [...Object.values(fields.parts), fields.seconds]) {
    input.addEventListener("input", () => {
      applyBuilder(fields);
      changed();
    });
  }
  fields.expression.addEventListener("input", () => {
    fillBuilder(fields);
    matchChoice(fields);
    changed();
  });
  fields.timezone.addEventListener("input", changed);
  fillBuilder(fields);
  changed();
}

function scheduleFields(form) {
  const parts = Object.fromEntries(PARTS.map((part) => [part, form.querySelector(`[data-cron-part="${part}"]`)]));
  return {
    form,
    parts,
    choice: form.querySelector("[data-schedule-choice]"),
    expression: form.querySelector("#field-schedule"),
    timezone: form.querySelector("#field-timezone"),
    seconds: form.querySelector("[data-cron-seconds]"),
  };
}

/** A preset fills the expression and the builder; manual empties both. */
function applyChoice(fields) {
  const { choice, expression } = fields;
  const preset = choice.selectedOptions[0].dataset.expression;
  if (choice.value === "manual") expression.value = "";
  else if (preset) expression.value = preset;
  else if (!expression.value.trim()) expression.value = fromBuilder(fields);
  fillBuilder(fields);
  if (choice.value === "custom") fields.parts.minute.focus();
}

/** The builder's fields make the expression, which may turn out to be a preset. */
function applyBuilder(fields) {
  showSeconds(fields);
  fields.expression.value = fromBuilder(fields);
  matchChoice(fields);
}

function fillBuilder(fields) {
  const values = fields.expression.value.trim().split(/\s+/).filter(Boolean);
  const shown = values.length === 6 ? PARTS : PARTS.slice(1);
  const fits = values.length === 5 || values.length === 6;
  fields.seconds.checked = values.length === 6;
  for (const part of PARTS) fields.parts[part].value = "";
  if (fits) shown.forEach((part, index) => (fields.parts[part].value = values[index]));
  showSeconds(fields);
}

function fromBuilder(fields) {
  const shown = fields.seconds.checked ? PARTS : PARTS.slice(1);
  return shown.map((part) => fields.parts[part].value.trim() || (part === "second" ? "0" : "*")).join(" ");
}

function showSeconds(fields) {
  fields.form.querySelector('[data-part="second"]').hidden = !fields.seconds.checked;
}

function matchChoice(fields) {
  const text = fields.expression.value.trim().split(/\s+/).join(" ");
  const preset = [...fields.choice.options].find((option) => option.dataset.expression === text);
  fields.choice.value = !text ? "manual" : preset ? preset.value : "custom";
}

/** A debounced preview: description and the next five fire times, or the server's error. */
function previewer(form) {
  let timer = null;
  let inFlight = null;
  const run = async (cron, zone) => {
    if (inFlight) inFlight.abort();
    clearFieldError(form, "schedule");
    clearFieldError(form, "timezone");
    if (!cron.trim()) return showPreview(form, MANUAL_WORDS);
    inFlight = new AbortController();
    const answer = await fetchPreview(cron.trim(), zone.trim() || "UTC", inFlight.signal);
    if (answer.aborted) return;
    for (const error of answer.errors) {
      showFieldError(form, error.field === "timezone" ? "timezone" : "schedule", error.message);
    }
    showPreview(form, answer.words, answer.fires, zone.trim() || "UTC");
  };
  return (cron, zone) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(cron, zone), PREVIEW_DELAY_MS);
  };
}

/** GET /api/v1/schedules/preview: {words, fires, errors}, or {aborted} when superseded. */
async function fetchPreview(cron, zone, signal) {
  const query = new URLSearchParams({ cron, timezone: zone, count: "5" });
  let response;
  try {
    response = await fetch(`/api/v1/schedules/preview?${query}`, { signal });
  } catch (error) {
    return error.name === "AbortError" ? { aborted: true } : { words: UNAVAILABLE, fires: [], errors: [] };
  }
  const data = await response.json().catch(() => ({}));
  if (response.ok) return { words: data.description || "", fires: data.next || [], errors: [] };
  if (response.status === 422) return { words: "", fires: [], errors: data.errors || [] };
  return { words: UNAVAILABLE, fires: [], errors: [] };
}

function showPreview(form, words, fires = [], zone = "UTC") {
  form.querySelector("[data-cron-description]").textContent = words;
  form.querySelector("[data-cron-next-title]").hidden = fires.length === 0;
  form.querySelector("[data-cron-next]").replaceChildren(...fires.map((fire) => fireItem(fire, zone)));
}

function fireItem(fire, zone) {
  const moment = new Date(fire);
  const item = document.createElement("li");
  const time = document.createElement("time");
  time.setAttribute("datetime", fire);
  time.textContent = formatIn(moment, zone);
  const words = document.createElement("span");
  words.className = "sub";
  words.textContent = inWords(moment);
  item.append(time, " ", words);
  return item;
}

function formatIn(moment, zone) {
  const options = { dateStyle: "medium", timeStyle: "medium" };
  try {
    return `${new Intl.DateTimeFormat(undefined, { ...options, timeZone: zone }).format(moment)} ${zone}`;
  } catch {
    return `${new Intl.DateTimeFormat(undefined, { ...options, timeZone: "UTC" }).format(moment)} UTC`;
  }
}
