// Calls to the REST API, answering {ok, status, data}; problems keep their JSON body.

const API = "/api/v1";

export async function call(method, path, { body, headers } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(`${API}${path}`, init);
  } catch (error) {
    return { ok: false, status: 0, data: { detail: `The server cannot be reached (${error.message}).` } };
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  return { ok: response.ok, status: response.status, data };
}

/** One line saying what went wrong, from a problem+json body. */
export function problemText(result) {
  const data = result.data || {};
  return data.detail || data.title || `The request failed (${result.status}).`;
}
