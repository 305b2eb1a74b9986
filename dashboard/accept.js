// Accepting an invitation: the token comes in the link's fragment (`/accept.html#token=…`, never
// sent to a server), the person chooses a password, and is signed in.
import { api } from "/api.js";

const form = document.getElementById("accept");
const error = document.getElementById("accept-error");
const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLink) {
  form.token.value = fromLink;
  history.replaceState(null, "", location.pathname); // the token leaves the address bar
}

function fail(message, field) {
  error.textContent = message;
  error.hidden = false;
  (field || form.password).focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  if (form.password.value !== form.confirm.value) return fail("The two passwords differ.", form.confirm);
  if ([...form.password.value].length < 12) return fail("The password must be at least 12 characters long.");
  try {
    const answer = await api("POST", "/v1/invitations/accept", {
      token: form.token.value.trim(),
      password: form.password.value,
    });
    location.assign("/dashboard/");
  } catch (e) {
    fail(e.message, e.code.startsWith("invalid_invitation") || e.code === "invitation_expired" ? form.token : form.password);
  }
});
