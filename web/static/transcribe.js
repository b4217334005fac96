// The Transcribe page: upload (drag and drop or picker) through a presigned URL with a progress bar,
// start the job, follow it over Server-Sent Events, then copy, download and play segments.
"use strict";

(() => {
  const root = document.getElementById("tx");
  if (!root) return;
  const texts = JSON.parse(root.dataset.texts);
  const say = (key, values = {}) =>
    (texts[key] || key).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
  const $ = (id) => document.getElementById(id);

  const form = $("tx-form");
  const fileInput = $("tx-file");
  const drop = $("tx-drop");
  const chosen = $("tx-chosen");
  const startButton = $("tx-start");
  const retryButton = $("tx-retry");
  const uploadBox = $("tx-upload-box");
  const uploadBar = $("tx-upload");
  const uploadPct = $("tx-upload-pct");
  const errorBox = $("tx-error");
  const jobBox = $("tx-job");
  const statusLine = $("tx-status");
  const progressBar = $("tx-progress");
  const progressPct = $("tx-progress-pct");
  const textBox = $("tx-text");
  const doneBox = $("tx-done");
  const copyButton = $("tx-copy");
  const copyStatus = $("tx-copy-status");
  const billedLine = $("tx-billed");
  const audio = $("tx-audio");
  const segmentList = $("tx-segments");

  let file = null;
  let busy = false;
  let source = null;
  let liveWords = 0;
  let pending = [];
  let ticker = null;
  let stopAt = null;
  const state = {};

  // --- choosing a file ------------------------------------------------------------------------

  const sizeText = (bytes) =>
    bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;

  function choose(picked) {
    file = picked || null;
    chosen.textContent = file ? `${file.name} · ${sizeText(file.size)}` : "";
    hideError();
  }

  fileInput.addEventListener("change", () => choose(fileInput.files[0]));
  ["dragenter", "dragover"].forEach((name) =>
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    }),
  );
  ["dragleave", "drop"].forEach((name) => drop.addEventListener(name, () => drop.classList.remove("over")));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const files = event.dataTransfer && event.dataTransfer.files;
    if (!files || !files.length) return;
    try {
      fileInput.files = files; // the picker shows the dropped file too
    } catch (_) {
      /* an old browser: the dropped file is used all the same */
    }
    choose(files[0]);
  });

  // --- errors in words ------------------------------------------------------------------------

  function showError(failure) {
    errorBox.replaceChildren();
    const message = document.createElement("span");
    message.textContent = failure.message || String(failure);
    errorBox.append(message);
    if (failure.balance) {
      const balance = document.createElement("span");
      balance.className = "tx-balance";
      balance.textContent = ` ${failure.balance} `;
      errorBox.append(balance);
    }
    if (failure.buy_url) {
      const link = document.createElement("a");
      link.href = failure.buy_url;
      link.textContent = say("buy_more");
      errorBox.append(link);
    }
    errorBox.hidden = false;
  }

  function hideError() {
    errorBox.hidden = true;
    errorBox.replaceChildren();
  }

  // The page's texts and error area, shared with dictate.js (loaded after this file).
  window.nagovori.transcribe = { say, showError, hideError, postJson };

  async function failureOf(status, body, fallbackKey) {
    let error = null;
    try {
      error = JSON.parse(body).error;
    } catch (_) {
      /* not JSON: worded below */
    }
    if (error && error.message) {
      return fallbackKey ? { message: say(fallbackKey, { reason: error.message }) } : error;
    }
    return { message: say(fallbackKey || "tx_upload_failed", { reason: `HTTP ${status}` }) };
  }

  // --- upload and start -----------------------------------------------------------------------

  async function postJson(url, payload) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": window.nagovori.csrf() },
        body: JSON.stringify(payload),
      });
    } catch (_) {
      throw { message: say("tx_network_failed") };
    }
    const body = await response.text();
    if (!response.ok) throw await failureOf(response.status, body, null);
    return JSON.parse(body);
  }

  function setUpload(percent) {
    uploadBar.value = percent;
    uploadPct.textContent = `${percent}%`;
  }

  function put(url, headers, body) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("PUT", url);
      const names = Object.keys(headers || {}).map((name) => name.toLowerCase());
      Object.entries(headers || {}).forEach(([name, value]) => request.setRequestHeader(name, value));
      if (!names.includes("content-type") && body.type) request.setRequestHeader("Content-Type", body.type);
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable && event.total > 0) setUpload(Math.floor((event.loaded * 100) / event.total));
      });
      request.addEventListener("load", async () => {
        if (request.status >= 200 && request.status < 300) {
          setUpload(100);
          resolve();
        } else {
          reject(await failureOf(request.status, request.responseText, "tx_upload_failed"));
        }
      });
      request.addEventListener("error", () => reject({ message: say("tx_network_failed") }));
      request.addEventListener("abort", () => reject({ message: say("tx_network_failed") }));
      request.send(body);
    });
  }

  async function start() {
    if (busy) return;
    if (!file) {
      showError({ message: say("tx_no_file") });
      fileInput.focus();
      return;
    }
    busy = true;
    startButton.disabled = true;
    retryButton.hidden = true;
    hideError();
    uploadBox.hidden = true;
    setUpload(0);
    try {
      const grant = await postJson("/web/transcribe/presign", {
        filename: file.name,
        content_type: file.type || null,
        size_bytes: file.size,
      });
      uploadBox.hidden = false; // granted: the bar counts from here
      if (!grant.already_uploaded) await put(grant.upload_url, grant.upload_headers, file);
      setUpload(100);
      const job = await postJson("/web/transcribe/jobs", {
        object_key: grant.object_key,
        filename: file.name,
        language: $("tx-language").value,
        preset: $("tx-preset").value,
        model: $("tx-model").value,
      });
      window.history.pushState({ job: job.id }, "", job.url);
      follow(job.id);
    } catch (failure) {
      // The form keeps the file and the choices: "Try again" repeats the whole step.
      showError(failure);
      retryButton.hidden = false;
    } finally {
      busy = false;
      startButton.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    start();
  });
  retryButton.addEventListener("click", start);

  // --- following the job ----------------------------------------------------------------------

  const clock = (seconds) => {
    const whole = Math.max(0, seconds);
    const minutes = Math.floor(whole / 60);
    return `${minutes}:${(whole - minutes * 60).toFixed(1).padStart(4, "0")}`;
  };
  const etaText = (seconds) =>
    seconds >= 90 ? say("tx_eta_minutes", { m: Math.ceil(seconds / 60) }) : say("tx_eta_seconds", { s: seconds });

  function setProgress(percent) {
    progressBar.value = percent;
    progressPct.textContent = `${percent}%`;
  }

  function showState(update) {
    Object.assign(state, update);
    setProgress(state.progress || 0);
    const eta = state.eta_seconds > 0 ? etaText(state.eta_seconds) : "";
    if (state.status === "queued") {
      statusLine.textContent = say(eta ? "tx_queued_eta" : "tx_queued", {
        position: (state.queue_position || 0) + 1,
        eta,
      });
    } else if (state.status === "processing") {
      statusLine.textContent = say(eta ? "tx_processing_eta" : "tx_processing", {
        percent: state.progress || 0,
        eta,
      });
    }
  }

  function addWord(word) {
    liveWords += 1;
    root.dataset.liveWords = String(liveWords);
    pending.push(word);
    if (!ticker) ticker = window.setInterval(revealOne, 35);
  }

  function revealOne() {
    const word = pending.shift();
    if (word === undefined) {
      window.clearInterval(ticker);
      ticker = null;
      return;
    }
    const span = document.createElement("span");
    span.className = "word";
    span.textContent = (textBox.childNodes.length ? " " : "") + word;
    textBox.append(span);
  }

  function flushWords() {
    while (pending.length) revealOne();
    if (ticker) window.clearInterval(ticker);
    ticker = null;
  }

  function follow(jobId) {
    if (source) source.close();
    jobBox.hidden = false;
    doneBox.hidden = true;
    textBox.replaceChildren();
    segmentList.replaceChildren();
    liveWords = 0;
    pending = [];
    root.dataset.jobId = jobId;
    root.dataset.liveWords = "0";
    delete root.dataset.status;
    Object.keys(state).forEach((key) => delete state[key]);
    setProgress(0);
    statusLine.textContent = say("tx_starting");
    document.querySelectorAll("#tx-downloads a[data-format]").forEach((link) => {
      link.href = `/web/transcribe/${jobId}/download/${link.dataset.format}`;
    });
    let finished = false;
    source = new EventSource(`/web/transcribe/${jobId}/events`);
    source.addEventListener("state", (event) => showState(JSON.parse(event.data)));
    source.addEventListener("token", (event) => addWord(JSON.parse(event.data).text));
    source.addEventListener("done", (event) => {
      finished = true;
      source.close();
      showDone(jobId, JSON.parse(event.data));
    });
    source.addEventListener("error", () => {
      if (!finished && source.readyState === EventSource.CLOSED) statusLine.textContent = say("tx_connection_lost");
    });
  }

  function showDone(jobId, done) {
    flushWords();
    root.dataset.status = done.status;
    if (done.status === "completed") {
      setProgress(100);
      const shown = textBox.textContent.replace(/\s+/g, " ").trim();
      const final = (done.text || "").replace(/\s+/g, " ").trim();
      if (shown !== final) textBox.textContent = done.text || ""; // a preset may have tidied the text
      if (!final) textBox.textContent = say("tx_no_speech");
      statusLine.textContent = say("tx_completed");
      billedLine.textContent = done.billed ? say("tx_billed", { billed: done.billed }) : "";
      audio.src = `/web/transcribe/${jobId}/audio`;
      showSegments(done.segments || []);
      doneBox.hidden = false;
    } else if (done.status === "failed") {
      statusLine.textContent = done.error || say("tx_failed");
    } else {
      statusLine.textContent = say("tx_cancelled");
    }
  }

  // --- segments that play their part of the audio ----------------------------------------------

  function showSegments(segments) {
    segmentList.replaceChildren(
      ...segments.map((segment) => {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.start = String(segment.start);
        button.dataset.end = String(segment.end);
        const time = document.createElement("time");
        time.textContent = `${clock(segment.start)}–${clock(segment.end)}`;
        const words = document.createElement("span");
        words.textContent = segment.text;
        button.append(time, words);
        button.addEventListener("click", () => playSegment(button));
        item.append(button);
        return item;
      }),
    );
  }

  function playSegment(button) {
    segmentList.querySelectorAll("button[aria-current]").forEach((other) => other.removeAttribute("aria-current"));
    button.setAttribute("aria-current", "true");
    stopAt = Number(button.dataset.end);
    audio.currentTime = Number(button.dataset.start);
    const playing = audio.play();
    if (playing) playing.catch(() => {}); // no sound device: the position is still set
  }

  audio.addEventListener("timeupdate", () => {
    if (stopAt !== null && audio.currentTime >= stopAt) {
      audio.pause();
      stopAt = null;
    }
  });

  // --- copy -----------------------------------------------------------------------------------

  copyButton.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(textBox.textContent);
      copyStatus.textContent = say("copied");
    } catch (_) {
      const range = document.createRange();
      range.selectNodeContents(textBox);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      copyStatus.textContent = say("copy_failed");
    }
  });

  window.addEventListener("popstate", () => window.location.reload());

  if (root.dataset.jobId) follow(root.dataset.jobId);
})();
