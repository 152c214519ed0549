// Buttons that send commands: run, enable, disable and delete a job; cancel an execution.

import { call, problemText } from "./api.js";
import { fragment } from "./live.js";
import { renderTimes } from "./times.js";
import { confirmAction, toast } from "./ui.js";

const JOB_ACTIONS = { run: runJob, enable: switchJob, disable: switchJob, delete: deleteJob };

export function initActions() {
  document.addEventListener("click", (click) => {
    const button = click.target.closest("[data-job-actions] [data-action]");
    if (button) act(button, JOB_ACTIONS[button.dataset.action]);
    const cancel = click.target.closest("[data-cancel-execution]");
    if (cancel) act(cancel, cancelExecution);
  });
}

async function act(button, action) {
  if (!action || button.disabled) return;
  button.disabled = true;
  try {
    await action(button);
  } finally {
    button.disabled = false;
  }
}

function jobOf(button) {
  const box = button.closest("[data-job-actions]");
  return { id: box.dataset.jobId, name: box.dataset.jobName, row: button.closest("tr[data-job-row]") };
}

async function runJob(button) {
  const job = jobOf(button);
  const result = await call("POST", `/jobs/${job.id}/execute`);
  if (!result.ok) return toast(problemText(result), { tone: "error" });
  toast(`Started ${job.name}.`, { link: { href: `/executions/${result.data.id}`, text: "View execution" } });
  await refreshJob(job);
}

async function switchJob(button) {
  const job = jobOf(button);
  const result = await call("PUT", `/jobs/${job.id}/${button.dataset.action}`);
  if (!result.ok) return toast(problemText(result), { tone: "error" });
  toast(`${job.name} is ${result.data.enabled ? "enabled" : "disabled"}.`);
  await refreshJob(job);
}

async function deleteJob(button) {
  const job = jobOf(button);
  const text = "It stops running and accepts no more changes; its executions and history stay.";
  if (!(await confirmAction(`Delete ${job.name}?`, text, "Delete job"))) return;
  const result = await call("DELETE", `/jobs/${job.id}`);
  if (!result.ok) return toast(problemText(result), { tone: "error" });
  toast(`Deleted ${job.name}.`);
  if (job.row) job.row.remove();
  else window.location.assign("/jobs");
}

/** Show the job as it is now: its row in the list, or the whole detail page. */
async function refreshJob(job) {
  if (!job.row) return document.dispatchEvent(new CustomEvent("job-changed"));
  const { element } = await fragment(`/ui/jobs/${job.id}/row`);
  if (element) {
    job.row.replaceWith(element);
    renderTimes(element);
  }
}

async function cancelExecution(button) {
  const id = button.dataset.cancelExecution;
  const text = "A running handler is stopped; a pending run never starts.";
  if (!(await confirmAction("Cancel this execution?", text, "Cancel execution"))) return;
  const result = await call("DELETE", `/executions/${id}`);
  if (!result.ok) return toast(problemText(result), { tone: "error" });
  toast(result.status === 202 ? "Stopping the handler…" : "Cancelled.");
  document.dispatchEvent(new CustomEvent("execution-changed", { detail: { id } }));
}
