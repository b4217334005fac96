// Speak page: the character counter, voice previews, and playing the speech while it streams.
// Without this file the form still works: it posts to the same endpoint and the browser plays
// the answer itself.
"use strict";

(() => {
  const form = document.getElementById("speak-form");
  if (!form) return;
  const text = document.getElementById("speak-text");
  const counter = document.getElementById("speak-counter");
  const messages = document.getElementById("speak-messages");
  const statusLine = document.getElementById("speak-status");
  const speakButton = document.getElementById("speak-button");
  const stopButton = document.getElementById("speak-stop");
  const result = document.getElementById("speak-result");
  const audio = document.getElementById("speak-audio");
  const download = document.getElementById("speak-download");
  const balance = document.getElementById("speak-balance");
  const previewPlayer = document.getElementById("preview-player");
  const limit = Number(form.dataset.limit);

  // Characters as the server counts them: code points, a line break as one.
  const length = (value) => [...value.replace(/\r\n/g, "\n")].length;
  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

  const updateCounter = () => {
    const count = length(text.value);
    counter.textContent = fill(form.dataset.counter, { count, limit });
    const over = count > limit;
    counter.classList.toggle("over", over);
    text.setAttribute("aria-invalid", over ? "true" : "false");
  };
  text.addEventListener("input", updateCounter);
  updateCounter();

  const say = (message) => { statusLine.textContent = message || ""; };
  const showError = (message, buy) => {
    const p = document.createElement("p");
    p.className = "msg error";
    p.id = "form-error";
    p.setAttribute("role", "alert");
    p.textContent = message;
    if (buy) {
      const link = document.createElement("a");
      link.href = buy.url;
      link.textContent = buy.text;
      p.append(" ", link);
    }
    messages.replaceChildren(p);
  };
  const clearError = () => messages.replaceChildren();

  // Previews: the same element replays a voice already heard (no new request).
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[data-preview]");
    if (!link) return;
    event.preventDefault();
    if (previewPlayer.dataset.voice === link.dataset.preview) {
      previewPlayer.currentTime = 0;
    } else {
      previewPlayer.src = link.href;
      previewPlayer.dataset.voice = link.dataset.preview;
    }
    previewPlayer.play().catch(() => {});
  });

  let controller = null;
  const urls = [];
  const forgetUrls = () => { while (urls.length) URL.revokeObjectURL(urls.pop()); };
  const busy = (on) => {
    speakButton.disabled = on;
    stopButton.hidden = !on;
    form.setAttribute("aria-busy", on ? "true" : "false");
  };
  stopButton.addEventListener("click", () => { if (controller) controller.abort(); });

  const once = (target, name) => new Promise((resolve) => target.addEventListener(name, resolve, { once: true }));
  const append = async (buffer, bytes) => {
    buffer.appendBuffer(bytes);
    await once(buffer, "updateend");
  };
  const fileName = (response, fallback) => {
    const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
    return match ? match[1] : fallback;
  };

  const refusal = async (response) => {
    if ((response.headers.get("Content-Type") || "").includes("application/json")) {
      const body = await response.json();
      showError(body.error.message, body.buy);
    } else if (response.status === 403) {
      showError(form.dataset.expired);
    } else {
      showError(response.status >= 500 ? form.dataset.unavailable : form.dataset.failed);
    }
  };

  // The stream plays as it arrives through MediaSource when the browser can (MP3 everywhere);
  // other formats play once complete. Either way the bytes are kept for the download.
  const play = async (response) => {
    const type = (response.headers.get("Content-Type") || "").split(";")[0];
    const chunks = [];
    let media = null;
    let buffer = null;
    forgetUrls();
    download.hidden = true;
    result.hidden = false;
    if (window.MediaSource && MediaSource.isTypeSupported(type)) {
      media = new MediaSource();
      urls.push(URL.createObjectURL(media));
      audio.src = urls[0];
      await once(media, "sourceopen");
      buffer = media.addSourceBuffer(type);
      audio.play().catch(() => {});
    }
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      if (buffer) await append(buffer, value);
    }
    if (media && media.readyState === "open") media.endOfStream();
    const file = URL.createObjectURL(new Blob(chunks, { type }));
    urls.push(file);
    if (!media) {
      audio.src = file;
      audio.play().catch(() => {});
    }
    download.href = file;
    download.download = fileName(response, "speech");
    download.hidden = false;
  };

  const summarize = async (jobId, tries = 10) => {
    const response = await fetch(`/web/speak/jobs/${encodeURIComponent(jobId)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const job = await response.json();
    if (job.status === "processing" && tries > 1) {
      // Stopped mid-stream: the server settles the bill a moment after the connection closes.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await summarize(jobId, tries - 1);
      return;
    }
    say(job.summary);
    balance.textContent = job.balance_text;
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const count = length(text.value);
    if (count > limit) {
      // Refused here in words; nothing is sent and the text stays as it is.
      showError(fill(form.dataset.tooLong, { length: count, limit, over: count - limit }));
      text.focus();
      return;
    }
    if (!text.value.trim()) {
      showError(form.dataset.empty);
      text.focus();
      return;
    }
    clearError();
    busy(true);
    say(form.dataset.working);
    controller = new AbortController();
    let jobId = null;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": window.nagovori.csrf(), Accept: "application/json, audio/*" },
        body: new FormData(form),
        signal: controller.signal,
      });
      if (!response.ok) {
        say("");
        await refusal(response);
        return;
      }
      jobId = response.headers.get("X-Nagovori-Job-Id");
      await play(response);
      if (jobId) await summarize(jobId);
    } catch (error) {
      if (error.name === "AbortError") {
        say(form.dataset.stopped);
        if (jobId) await summarize(jobId).catch(() => {});
      } else {
        say("");
        showError(form.dataset.failed);
      }
    } finally {
      busy(false);
      controller = null;
    }
  });
})();
