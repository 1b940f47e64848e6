import { api, csrfToken, el, showErrors, clearErrors, ApiError, confirmAction } from "./api.js";

const body = document.querySelector("#message-list tbody");

async function load() {
  const messages = await api("GET", "/api/messages");
  body.replaceChildren(...messages.map((m) =>
    el("tr", { "data-message": m.title },
      el("td", {}, m.title, m.text ? el("div", { class: "muted" }, m.text) : null),
      el("td", {}, `${m.language}`, el("div", { class: "muted" }, m.language_name)),
      el("td", {}, `${m.duration_s.toFixed(1)} s`),
      el("td", {}, el("audio", { controls: true, preload: "none", src: m.audio })),
      el("td", {}, m.created_by),
      el("td", {}, el("button", { type: "button", class: "danger", onclick: () => remove(m) }, "Delete 删除")))));
}

async function remove(m) {
  if (!confirmAction(`Delete ${m.title}? 删除 ${m.title}？`)) return;
  try { await api("DELETE", `/api/messages/${m.id}`); } catch (error) { alert(error.message); }
  await load();
}

// ---- text to speech
const tts = document.getElementById("tts-form");
const ttsBody = () => ({
  title: tts.title.value, text: tts.text.value, lang: tts.lang.value,
  rate: Number(tts.rate.value), volume: Number(tts.volume.value), chime: tts.chime.checked,
});
document.getElementById("tts-preview").addEventListener("click", async () => {
  clearErrors(tts);
  const button = document.getElementById("tts-preview");
  button.disabled = true;
  try {
    const response = await fetch("/api/messages/tts/preview", {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(ttsBody()),
    });
    if (!response.ok) throw new ApiError(response.status, await response.json());
    const audio = document.getElementById("tts-audio");
    audio.src = URL.createObjectURL(await response.blob());
    audio.hidden = false;
    audio.play().catch(() => {});
  } catch (error) { showErrors(tts, error); }
  button.disabled = false;
});
tts.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(tts);
  try { await api("POST", "/api/messages/tts", ttsBody()); tts.reset(); await load(); }
  catch (error) { showErrors(tts, error); }
});

// ---- record in the browser (MediaRecorder), or pick a file
const rec = document.getElementById("record-form");
const start = document.getElementById("record-start");
const stop = document.getElementById("record-stop");
const state = document.getElementById("record-state");
let recorder = null;
let recorded = null;

start.addEventListener("click", async () => {
  clearErrors(rec);
  let stream;
  try { stream = await navigator.mediaDevices.getUserMedia({ audio: true }); }
  catch (error) { state.textContent = `no microphone 无法使用麦克风: ${error.message}`; return; }
  const type = MediaRecorder.isTypeSupported("audio/webm;codecs=opus") ? "audio/webm;codecs=opus" : "";
  recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
  const chunks = [];
  recorder.ondataavailable = (e) => chunks.push(e.data);
  recorder.onstop = () => {
    stream.getTracks().forEach((t) => t.stop());
    recorded = new Blob(chunks, { type: recorder.mimeType || "audio/webm" });
    const audio = document.getElementById("record-audio");
    audio.src = URL.createObjectURL(recorded);
    audio.hidden = false;
    state.textContent = `recorded 已录 ${(recorded.size / 1024).toFixed(0)} KB`;
  };
  recorder.start();
  start.disabled = true; stop.disabled = false;
  state.textContent = "recording… 录音中";
});
stop.addEventListener("click", () => {
  recorder?.stop();
  start.disabled = false; stop.disabled = true;
});

rec.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(rec);
  const data = new FormData();
  const file = rec.file.files[0];
  if (file) data.append("file", file);
  else if (recorded) data.append("file", recorded, "recording.webm");
  else return showErrors(rec, new ApiError(400, { error: "record or pick a file first 请先录音或选择文件", fields: { file: "record or pick a file first 请先录音或选择文件" } }));
  data.append("title", rec.title.value);
  data.append("dialect", rec.dialect.value);
  if (rec.chime.checked) data.append("chime", "true");
  try {
    await api("POST", "/api/messages/recordings", data);
    rec.reset(); recorded = null;
    document.getElementById("record-audio").hidden = true;
    state.textContent = "";
    await load();
  } catch (error) { showErrors(rec, error); }
});

// ---- audibility
const aud = document.getElementById("audibility-form");
async function audibility() {
  const out = document.getElementById("audibility-result");
  try {
    const a = await api("GET", `/api/messages/audibility?alt=${encodeURIComponent(aud.alt.value)}`);
    out.className = a.ok ? "ok" : "bad";
    out.textContent = `${a.level_db} dB on the ground 地面声级 (speaker 喇叭 ${a.speaker_spl} dB @1 m; audible up to 可听高度 ${a.max_alt_m} m)`;
  } catch (error) { out.className = "bad"; out.textContent = error.message; }
}
aud.alt.addEventListener("input", audibility);
aud.addEventListener("submit", (e) => e.preventDefault());

api("GET", "/api/messages/languages").then(({ known }) => {
  document.getElementById("dialects").replaceChildren(...Object.entries(known).map(([tag, name]) => el("option", { value: tag }, name)));
});
audibility();
load();
