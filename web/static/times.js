// Times: relative ones ("in 3 minutes") kept current, and every time shown locally on hover.

const UNITS = [["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
const REFRESH_MS = 15000;

export function inWords(moment, now = Date.now()) {
  const seconds = (moment.getTime() - now) / 1000;
  if (Math.abs(seconds) < 1) return "just now";
  const size = Math.abs(seconds);
  const [name, unit] = UNITS.find(([, length]) => size >= length) || UNITS[3];
  const count = Math.max(1, Math.floor(size / unit));
  const amount = `${count} ${name}${count === 1 ? "" : "s"}`;
  return seconds > 0 ? `in ${amount}` : `${amount} ago`;
}

/** Refresh relative times and add local-time tooltips inside `root`. */
export function renderTimes(root = document) {
  for (const element of root.querySelectorAll("time[datetime]")) {
    const value = element.getAttribute("datetime");
    if (!value) continue;
    const moment = new Date(value);
    if (Number.isNaN(moment.getTime())) continue;
    if (element.hasAttribute("data-relative")) element.textContent = inWords(moment);
    element.title = `${moment.toLocaleString()} (your time)`;
  }
}

export function keepTimesCurrent() {
  renderTimes();
  setInterval(() => renderTimes(), REFRESH_MS);
}
