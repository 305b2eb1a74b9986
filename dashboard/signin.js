// The sign-in page: team ID, email and password → the session cookie → the dashboard.
import { api } from "/api.js";

const form = document.getElementById("signin");
const error = document.getElementById("signin-error");
const team = document.getElementById("team_id");
team.value = localStorage.getItem("keygate.team_id") || new URLSearchParams(location.search).get("team") || "";

// Already signed in: straight to the dashboard.
api("GET", "/v1/me").then(() => location.assign("/dashboard/")).catch(() => {});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  const body = {
    team_id: team.value.trim(),
    email: form.email.value.trim(),
    password: form.password.value,
  };
  const button = form.querySelector("button");
  button.disabled = true;
  try {
    await api("POST", "/v1/session", body);
    localStorage.setItem("keygate.team_id", body.team_id);
    location.assign("/dashboard/");
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    form.password.focus();
  } finally {
    button.disabled = false;
  }
});
