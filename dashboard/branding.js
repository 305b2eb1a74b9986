// A team's branding in the dashboard's header and buttons (`GET /v1/me`'s `team.branding`:
// name, logo_url, accent_color), and the "Back to <name>" link of a session a portal link opened
// (`GET /v1/me`'s `portal`). Styles are set through the CSSOM (`style.setProperty`), which the
// CSP's `style-src 'self'` allows; no style attribute and no inline style sheet.

/** `#rrggbb` → the text colour that reads on it (WCAG relative luminance). */
export function textOn(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // Contrast with white (1.05 / (lum + 0.05)) against with black ((lum + 0.05) / 0.05).
  return 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.05 ? "#ffffff" : "#1b1f24";
}

const https = (u) => typeof u === "string" && /^https:\/\//i.test(u);
// A return URL: https, or a local development address (what the API accepts in development).
const backUrl = (u) => https(u) || (typeof u === "string" && /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?(\/|$)/i.test(u));

export function applyBranding(team) {
  const b = team?.branding || {};
  const brand = document.querySelector(".brand");
  if (b.name) {
    brand.textContent = b.name;
    document.title = `${b.name} · API keys`;
  }
  if (https(b.logo_url)) {
    const logo = document.createElement("img");
    logo.src = b.logo_url;
    logo.alt = b.name ? "" : `${team.name} logo`;
    logo.className = "logo";
    logo.referrerPolicy = "no-referrer";
    logo.addEventListener("error", () => (logo.hidden = true)); // unreachable: no broken-image icon
    brand.prepend(logo);
  }
  if (/^#[0-9a-f]{6}$/i.test(b.accent_color || "")) {
    const root = document.documentElement.style;
    root.setProperty("--accent", b.accent_color);
    root.setProperty("--accent-fg", textOn(b.accent_color));
  }
}

export function backLink(portal) {
  if (!portal || !backUrl(portal.return_url)) return;
  const a = document.createElement("a");
  a.href = portal.return_url;
  a.className = "back";
  a.id = "back-link";
  a.rel = "noopener noreferrer";
  a.textContent = `← Back to ${portal.name}`;
  document.querySelector("header.top").prepend(a);
}
