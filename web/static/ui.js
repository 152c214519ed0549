// Small pieces of interface: toasts and a confirmation dialog.

const TOAST_MS = 8000;

/** A short message in the corner; `link` is {href, text}; `tone` is "ok" or "error". */
export function toast(message, { link, tone = "ok" } = {}) {
  const box = document.querySelector("[data-toasts]");
  const note = document.createElement("div");
  note.className = `toast ${tone}`;
  note.textContent = message;
  if (link) {
    const anchor = document.createElement("a");
    anchor.href = link.href;
    anchor.textContent = link.text;
    note.append(" ", anchor);
  }
  box.append(note);
  setTimeout(() => note.remove(), TOAST_MS);
}

/** Ask before doing something that cannot be undone; resolves true when confirmed. */
export function confirmAction(title, text, confirmLabel) {
  const dialog = document.querySelector("[data-confirm]");
  dialog.querySelector("[data-confirm-title]").textContent = title;
  dialog.querySelector("[data-confirm-text]").textContent = text;
  dialog.querySelector("[data-confirm-button]").textContent = confirmLabel;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
  });
}
