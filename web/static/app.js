// Nagovori dashboard: small progressive enhancements; every page works without this file.
"use strict";

// For pages that change something with fetch(): the CSRF token travels as X-CSRF-Token.
window.nagovori = {
  csrf: () => document.querySelector('meta[name="csrf-token"]').content,
  post: (url, body) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRF-Token": window.nagovori.csrf() },
      body,
    }),
};

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const status = document.getElementById("copy-status");
  const say = (text) => { if (status) status.textContent = text; };
  try {
    await navigator.clipboard.writeText(field.value);
    say(button.dataset.copied);
  } catch (_) {
    // No clipboard permission (or an old browser): select the text so Ctrl+C copies it.
    field.focus();
    field.select();
    say(button.dataset.failed);
  }
});

document.addEventListener("submit", (event) => {
  const question = event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
});

// A freshly shown secret is selected, ready to copy with the keyboard.
const secret = document.querySelector("input.secret");
if (secret) secret.addEventListener("focus", () => secret.select());
