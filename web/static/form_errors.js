// Errors next to the fields they are about, from the server's problem+json `errors`.

/** The form field an API error names: `config.a` and `misfire.graceMs` belong to their root. */
export function fieldOf(name) {
  return String(name || "").split(/[.[]/)[0];
}

/** An input that names the API field it sets (`data-api-name`) owns its errors. */
function formFieldOf(form, name) {
  const input = form.querySelector(`[data-api-name="${CSS.escape(String(name))}"]`);
  return input ? input.id.replace(/^field-/, "") : fieldOf(name);
}

export function showFieldError(form, field, message) {
  const slot = form.querySelector(`[data-error-for="${field}"]`);
  if (!slot) return false;
  slot.textContent = slot.hidden ? message : `${slot.textContent} ${message}`;
  slot.hidden = false;
  const input = form.querySelector(`#field-${field}`);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", slot.id);
  }
  return true;
}

export function clearFieldError(form, field) {
  const slot = form.querySelector(`[data-error-for="${field}"]`);
  if (!slot) return;
  slot.hidden = true;
  slot.textContent = "";
  const input = form.querySelector(`#field-${field}`);
  if (input) input.removeAttribute("aria-invalid");
}

export function clearAllErrors(form) {
  for (const slot of form.querySelectorAll("[data-error-for]")) clearFieldError(form, slot.dataset.errorFor);
  showFormError(form, "");
}

/** A message for the whole form (empty hides it); `items` are listed under it. */
export function showFormError(form, message, items = []) {
  const box = form.querySelector("[data-form-error]");
  box.replaceChildren();
  box.hidden = !message;
  if (!message) return;
  const text = document.createElement("p");
  text.textContent = message;
  box.append(text);
  if (!items.length) return;
  const list = document.createElement("ul");
  for (const item of items) {
    const entry = document.createElement("li");
    entry.textContent = item;
    list.append(entry);
  }
  box.append(list);
}

/** Put each error of a 422 next to its field; returns those that have no field here. */
export function showProblemErrors(form, errors) {
  const unplaced = [];
  for (const error of errors || []) {
    if (!showFieldError(form, formFieldOf(form, error.field), error.message)) {
      unplaced.push(`${error.field}: ${error.message}`);
    }
  }
  return unplaced;
}
