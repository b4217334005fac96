// The Transcribe page's Dictate button: the microphone's audio, recorded by MediaRecorder as Opus
// chunks every 250 ms, streams to the API's realtime WebSocket (/v1/stt/realtime, same origin)
// opened with a one-time token from /web/transcribe/realtime-token. Partial text shows greyed and
// is replaced until its final arrives; Stop sends the empty frame that finishes the session, and
// the server answers the last finals, the seconds billed and the saved job's id.
"use strict";

(() => {
  const root = document.getElementById("tx");
  const page = window.nagovori && window.nagovori.transcribe; // transcribe.js, loaded first
  if (!root || !page) return;
  const { say, showError, hideError, postJson } = page;
  const $ = (id) => document.getElementById(id);

  const startButton = $("dx-start");
  const stopButton = $("dx-stop");
  const box = $("dx");
  const statusLine = $("dx-status");
  const finalText = $("dx-final");
  const partialText = $("dx-partial");
  const billedLine = $("dx-billed");

  const TIMESLICE_MS = 250;
  const TYPES = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus"]; // what audio_format "auto" takes
  const TOKEN_MARGIN_SECONDS = 5;

  let session = null; // the one running dictation
  let partials = 0;
  let finals = 0;

  startButton.hidden = false;
  $("dx-hint").hidden = false;

  const duration = (seconds) => {
    const m = Math.floor(seconds / 60);
    const s = seconds % 60;
    if (m && s) return say("minutes_seconds", { m, s });
    return m ? say("minutes_only", { m }) : say("seconds_only", { s });
  };

  function recordingType() {
    if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return null;
    return TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || null;
  }

  // Idle: Dictate shows. Otherwise Stop shows (and takes the focus Dictate had, for the keyboard).
  function setState(name) {
    root.dataset.dictation = name;
    const active = name !== "idle";
    const focused = document.activeElement === startButton || document.activeElement === stopButton;
    startButton.hidden = active;
    stopButton.hidden = !active;
    if (name === "finishing") stopButton.setAttribute("aria-disabled", "true");
    else stopButton.removeAttribute("aria-disabled");
    if (focused) (active ? stopButton : startButton).focus();
  }

  async function balanceFailure(message) {
    const failure = { message };
    try {
      const response = await fetch("/web/transcribe/balance", { credentials: "same-origin" });
      if (response.ok) Object.assign(failure, await response.json());
    } catch (_) {
      /* the message alone */
    }
    return failure;
  }

  function micFailure(failure) {
    if (!(failure instanceof DOMException)) return failure; // the token's answer, already in words
    if (failure.name === "NotAllowedError" || failure.name === "SecurityError") return { message: say("dx_denied") };
    if (failure.name === "NotFoundError" || failure.name === "OverconstrainedError") {
      return { message: say("dx_no_device") };
    }
    return { message: say("dx_mic_failed", { reason: failure.message || failure.name }) };
  }

  // --- start: token, microphone, socket, recorder ----------------------------------------------

  async function start() {
    if (session) return;
    hideError();
    if (window.isSecureContext === false) {
      showError({ message: say("dx_insecure") });
      return;
    }
    const mimeType = recordingType();
    if (!mimeType) {
      showError({ message: say("dx_unsupported") });
      return;
    }
    const current = { stream: null, ws: null, recorder: null, opened: false, stopping: false };
    session = current;
    box.hidden = false;
    finalText.textContent = "";
    partialText.textContent = "";
    billedLine.replaceChildren();
    delete root.dataset.dxBilled;
    delete root.dataset.dxJob;
    statusLine.textContent = say("dx_asking");
    setState("starting");
    try {
      // The token first: no minutes is said before the microphone is asked for.
      let grant = await postJson("/web/transcribe/realtime-token", {});
      if (current.stopping) throw null; // Stop pressed meanwhile: no microphone
      current.stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      if (current.stopping) throw null; // Stop pressed while the browser asked
      if (Date.now() / 1000 > grant.expires_at - TOKEN_MARGIN_SECONDS) {
        grant = await postJson("/web/transcribe/realtime-token", {}); // a slow permission prompt
      }
      statusLine.textContent = say("dx_connecting");
      connect(current, grant, mimeType);
    } catch (failure) {
      release(current);
      end(current);
      box.hidden = true; // nothing was dictated: the error above says why
      if (failure) showError(micFailure(failure));
    }
  }

  function config() {
    const model = $("tx-model").value;
    const body = { audio_format: "auto", language: $("tx-language").value || "auto", save: true };
    if (model) body.model = model;
    return body;
  }

  function connect(current, grant, mimeType) {
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${window.location.host}${grant.path}?token=${encodeURIComponent(grant.token)}`;
    const ws = new WebSocket(url);
    current.ws = ws;
    ws.addEventListener("open", () => {
      current.opened = true;
      if (current.stopping) {
        current.cancelled = true; // Stop pressed while connecting: no session was started
        ws.close();
        return;
      }
      ws.send(JSON.stringify(config()));
      const recorder = new MediaRecorder(current.stream, { mimeType });
      current.recorder = recorder;
      recorder.addEventListener("dataavailable", (event) => {
        if (event.data.size > 0 && ws.readyState === WebSocket.OPEN) ws.send(event.data);
      });
      // After the last chunk: the empty frame finishes the session (sends keep their order).
      recorder.addEventListener("stop", () => {
        if (ws.readyState === WebSocket.OPEN) ws.send(new ArrayBuffer(0));
      });
      recorder.start(TIMESLICE_MS);
      statusLine.textContent = say("dx_listening");
      setState("recording");
    });
    ws.addEventListener("message", (event) => receive(current, event.data));
    ws.addEventListener("close", () => closed(current));
  }

  // --- what the server says --------------------------------------------------------------------

  function receive(current, data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch (_) {
      return;
    }
    if (message.error) {
      current.error = message.error;
    } else if (message.finished) {
      current.finished = message;
    } else if (message.is_final) {
      finals += 1;
      root.dataset.finals = String(finals);
      partialText.textContent = "";
      const text = (message.text || "").trim();
      if (text) finalText.textContent += (finalText.textContent ? " " : "") + text;
    } else {
      partials += 1;
      root.dataset.partials = String(partials);
      const text = (message.text || "").trim();
      partialText.textContent = text ? (finalText.textContent ? " " : "") + text : "";
    }
  }

  async function closed(current) {
    release(current);
    end(current);
    partialText.textContent = "";
    if (current.cancelled) {
      statusLine.textContent = "";
      return;
    }
    if (current.finished) showFinished(current.finished);
    else statusLine.textContent = "";
    if (current.error && !current.finished && !finalText.textContent) box.hidden = true; // refused
    if (current.error) showError(await sessionFailure(current.error));
    else if (!current.finished && !current.opened) {
      box.hidden = true;
      showError({ message: say("tx_network_failed") });
    }
    else if (!current.finished) statusLine.textContent = say("dx_connection_lost");
  }

  async function sessionFailure(error) {
    if (error.code === "insufficient_minutes") return balanceFailure(say("error_no_minutes"));
    if (error.code === "idle_timeout") return { message: say("dx_idle") };
    if (error.code === "session_too_long") return { message: say("dx_too_long") };
    if (error.code === "too_many_active_jobs") return { message: say("tx_too_many_jobs") };
    return { message: say("dx_failed", { reason: error.message || error.code }) };
  }

  async function showFinished(done) {
    statusLine.textContent = say(finalText.textContent ? "dx_finished" : "dx_nothing_heard");
    root.dataset.dxBilled = String(done.billed_seconds);
    const charged = document.createElement("span");
    charged.textContent = say("dx_billed", { billed: duration(done.billed_seconds || 0) });
    billedLine.replaceChildren(charged);
    if (done.job_id) {
      root.dataset.dxJob = done.job_id;
      const link = document.createElement("a");
      link.href = `/history/${encodeURIComponent(done.job_id)}`;
      link.textContent = say("dx_open_history");
      billedLine.append(" ", link);
    }
    const { balance } = await balanceFailure("");
    if (balance) charged.textContent += ` ${balance}`;
  }

  // --- stop ------------------------------------------------------------------------------------

  function stop() {
    const current = session;
    if (!current || current.stopping) return;
    current.stopping = true;
    statusLine.textContent = say("dx_finishing");
    setState("finishing");
    if (current.recorder && current.recorder.state !== "inactive") current.recorder.stop();
    if (current.stream) current.stream.getTracks().forEach((track) => track.stop());
    // Before the socket opened there is nothing to finish: its open handler closes it, and
    // start() drops a token or a microphone that arrives afterwards.
  }

  function release(current) {
    if (current.recorder && current.recorder.state !== "inactive") current.recorder.stop();
    if (current.stream) current.stream.getTracks().forEach((track) => track.stop());
  }

  function end(current) {
    if (session !== current) return;
    session = null;
    setState("idle");
  }

  startButton.addEventListener("click", start);
  stopButton.addEventListener("click", stop);
  window.addEventListener("pagehide", () => {
    if (session && session.ws) session.ws.close(); // the server bills what it received
  });
})();
