// The schedule: presets, a visual cron builder, and the server's preview as you type.

import { clearFieldError, showFieldError } from "./form_errors.js";
import { inWords } from "./times.js";

const PARTS = ["second", "minute", "hour", "day", "month", "weekday"];
const PREVIEW_DELAY_MS = 250;
const MANUAL_WORDS = "No schedule: runs only when started by hand (Run now) or by an event trigger.";

export function initCronBuilder(form) {
  const choice = form.querySelector("[data-schedule-choice]");
  const expression = form.querySelector("#field-schedule");
  const timezone = form.querySelector("#field-timezone");
  const seconds = form.querySelector("[data-cron-seconds]");
  const inputs = Object.fromEntries(PARTS.map((part) => [part, form.querySelector(`[data-cron-part="${part}"]`)]));
  const preview = previewer(form);

  const fillBuilder = (text) => {
    const fields = text.trim().split(/\s+/).filter(Boolean);
    const withSeconds = fields.length === 6;
    if (fields.length === 5 || withSeconds) {
      seconds.checked = withSeconds;
      const parts = withSeconds ? PARTS : PARTS.slice(1);
      parts.forEach((part, index) => (inputs[part].value = fields[index]));
    } else {
      PARTS.forEach((part) => (inputs[part].value = ""));
    }
    showSeconds();
  };
  const fromBuilder = () => {
    const parts = seconds.checked ? PARTS : PARTS.slice(1);
    return parts.map((part) => inputs[part].value.trim() || (part === "second" ? "0" : "*")).join(" ");
  };
  const showSeconds = () => {
    form.querySelector('[data-part="second"]').hidden = !seconds.checked;
  };
  const matchChoice = () => {
    const text = expression.value.trim().split(/\s+/).join(" ");
    const preset = [...choice.options].find((option) => option.dataset.expression === text);
    choice.value = !text ? "manual" : preset ? preset.value : "custom";
  };
  const changed = () => preview(expression.value, timezone.value);

  choice.addEventListener("change", () => {
    const option = choice.selectedOptions[0];
    if (choice.value === "manual") expression.value = "";
    else if (option.dataset.expression) expression.value = option.dataset.expression;
    else if (!expression.value.trim()) expression.value = fromBuilder();
    fillBuilder(expression.value);
    if (choice.value === "custom") inputs.minute.focus();
    changed();
  });
  for (const input of [...Object.values(inputs), seconds]) {
    input.addEventListener("input", () => {
      showSeconds();
      expression.value = fromBuilder();
      matchChoice();
      changed();
    });
  }
  expression.addEventListener("input", () => {
    fillBuilder(expression.value);
    matchChoice();
    changed();
  });
  timezone.addEventListener("input", changed);
  fillBuilder(expression.value);
  changed();
}

/** A debounced preview: description and the next five fire times, or the server's error. */
function previewer(form) {
  const words = form.querySelector("[data-cron-description]");
  const list = form.querySelector("[data-cron-next]");
  const title = form.querySelector("[data-cron-next-title]");
  let timer = null;
  let inFlight = null;

  const show = (text, fires = [], zone = "UTC") => {
    words.textContent = text;
    title.hidden = fires.length === 0;
    list.replaceChildren(...fires.map((fire) => fireItem(fire, zone)));
  };
  const run = async (cron, zone) => {
    if (inFlight) inFlight.abort();
    clearFieldError(form, "schedule");
    clearFieldError(form, "timezone");
    if (!cron.trim()) return show(MANUAL_WORDS);
    inFlight = new AbortController();
    const query = new URLSearchParams({ cron: cron.trim(), timezone: zone.trim() || "UTC", count: "5" });
    let response;
    try {
      response = await fetch(`/api/v1/schedules/preview?${query}`, { signal: inFlight.signal });
    } catch (error) {
      if (error.name !== "AbortError") show("The preview is unavailable right now.");
      return;
    }
    const data = await response.json().catch(() => ({}));
    if (response.ok) return show(data.description || "", data.next || [], zone.trim() || "UTC");
    if (response.status === 422) {
      for (const error of data.errors || []) {
        showFieldError(form, error.field === "timezone" ? "timezone" : "schedule", error.message);
      }
      return show("");
    }
    show("The preview is unavailable right now.");
  };
  return (cron, zone) => {
    clearTimeout(timer);
    timer = setTimeout(() => run(cron, zone), PREVIEW_DELAY_MS);
  };
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
