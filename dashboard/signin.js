// The sign-in page: email and password → the session cookie → the dashboard. When they match in
// several teams the answer is `{teams: [...]}`: the person chooses one and the page signs in again
// naming it. When the member uses two-factor sign-in the answer is `401 totp_required`: the page
// asks for a code and signs in again with it.
import { api } from "/api.js";

const form = document.getElementById("signin");
const error = document.getElementById("signin-error");
const teams = document.getElementById("teams");
const choices = document.getElementById("team-choices");
const codeField = document.getElementById("code-field");
const code = document.getElementById("code");

// Already signed in (a portal link lands here too): straight to the dashboard.
api("GET", "/v1/me").then(() => location.assign("/dashboard/")).catch(() => {});

function fail(message, field) {
  error.textContent = message;
  error.hidden = false;
  field.focus();
}

/** The teams to choose from, as radio buttons (the first one checked). */
function offerTeams(list) {
  choices.replaceChildren(...list.map((t, i) => {
    const id = `team-${t.id}`;
    const input = Object.assign(document.createElement("input"), { type: "radio", name: "team_id", value: t.id, id, checked: i === 0 });
    const label = Object.assign(document.createElement("label"), { htmlFor: id, textContent: t.name });
    const row = document.createElement("div");
    row.className = "field check";
    row.append(input, label);
    return row;
  }));
  teams.hidden = false;
  choices.querySelector("input").focus();
}

// A changed email or password starts over: no team chosen for another person, no code asked.
for (const input of [form.email, form.password]) {
  input.addEventListener("input", () => {
    teams.hidden = true;
    choices.replaceChildren();
  });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const body = { email: form.email.value.trim(), password: form.password.value };
  const chosen = choices.querySelector("input:checked");
  if (!teams.hidden && chosen) body.team_id = chosen.value;
  if (!codeField.hidden && code.value.trim()) body.code = code.value.replace(/\s+/g, "");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const answer = await api("POST", "/v1/session", body);
    if (answer && Array.isArray(answer.teams)) return offerTeams(answer.teams);
    location.assign("/dashboard/");
  } catch (e) {
    if (e.code === "totp_required") {
      const asked = !codeField.hidden;
      codeField.hidden = false;
      code.value = "";
      // The first time, a question, not an error; after a code, the API's words.
      if (asked) fail(e.message, code);
      else code.focus();
      return;
    }
    fail(e.message, form.password);
  } finally {
    button.disabled = false;
  }
});
