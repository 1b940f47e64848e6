import { api, el, showErrors, clearErrors, formJson, when, confirmAction } from "./api.js";

const usersBody = document.querySelector("#users tbody");
const auditBody = document.querySelector("#audit tbody");

async function loadUsers() {
  const users = await api("GET", "/api/users");
  usersBody.replaceChildren(
    ...users.map((u) =>
      el("tr", {},
        el("td", {}, u.name),
        el("td", {}, el("select", { "aria-label": `role of ${u.name}`, onchange: (e) => change(u.name, { role: e.target.value }) },
          ...["admin", "operator", "reviewer", "staff"].map((r) => el("option", { selected: r === u.role }, r)))),
        el("td", {}, u.disabled ? "disabled 已停用" : "active 正常"),
        el("td", {},
          el("button", { type: "button", onclick: () => change(u.name, { disabled: !u.disabled }) }, u.disabled ? "Enable 启用" : "Disable 停用"),
          el("button", { type: "button", class: "danger", onclick: () => remove(u.name) }, "Remove 删除")),
      )),
  );
}

async function change(name, body) {
  try { await api("PATCH", `/api/users/${encodeURIComponent(name)}`, body); }
  catch (error) { alert(error.message); }
  await refresh();
}

async function remove(name) {
  if (!confirmAction(`Remove user ${name}? 删除用户 ${name}？`)) return;
  try { await api("DELETE", `/api/users/${encodeURIComponent(name)}`); }
  catch (error) { alert(error.message); }
  await refresh();
}

async function loadAudit() {
  const entries = await api("GET", "/api/audit?limit=200");
  auditBody.replaceChildren(
    ...entries.map((a) => el("tr", {}, el("td", {}, when(a.at)), el("td", {}, a.user), el("td", {}, a.action),
      el("td", {}, a.target), el("td", {}, a.detail), el("td", {}, a.address))),
  );
}

async function refresh() { await Promise.all([loadUsers(), loadAudit()]); }

const form = document.getElementById("add-user");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("POST", "/api/users", formJson(form));
    form.reset();
    await refresh();
  } catch (error) { showErrors(form, error); }
});
refresh();

// ---- site settings
const settingsForm = document.getElementById("settings-form");
const NUMBERS = ["plan_alt_m", "plan_speed_ms", "plan_spacing_m", "speaker_spl", "min_level_db", "max_upload_mb", "session_hours"];
const LABELS = {
  tile_url: "Tile URL 瓦片地址", tile_attribution: "Attribution 署名", home: "Township home 起飞点",
  plan_alt_m: "Plan altitude 航线高度", plan_speed_ms: "Plan speed 航线速度", plan_spacing_m: "Plan spacing 航线间距",
  speaker_spl: "Loudspeaker 喇叭", min_level_db: "Needed on the ground 地面所需", max_upload_mb: "Upload limit 上传上限",
  session_hours: "Session lifetime 登录有效期",
};
let loaded = null;

function formValues() {
  const f = settingsForm;
  const values = { tile_url: f.tile_url.value.trim() || null, tile_attribution: f.tile_attribution.value.trim() };
  for (const name of NUMBERS) values[name] = f[name].value === "" ? null : Number(f[name].value);
  const lat = f.home_lat.value, lon = f.home_lon.value;
  values.home = lat === "" && lon === "" ? null
    : { lat: lat === "" ? null : Number(lat), lon: lon === "" ? null : Number(lon), alt: Number(f.home_alt.value || 0) };
  return values;
}

function fill({ values, sources }) {
  loaded = values;
  const f = settingsForm;
  f.tile_url.value = values.tile_url || "";
  f.tile_attribution.value = values.tile_attribution || "";
  for (const name of NUMBERS) f[name].value = values[name];
  f.home_lat.value = values.home?.lat ?? "";
  f.home_lon.value = values.home?.lon ?? "";
  f.home_alt.value = values.home?.alt ?? "";
  document.querySelector("#setting-sources tbody").replaceChildren(...Object.entries(sources).map(([key, s]) =>
    el("tr", { "data-setting": key },
      el("td", {}, LABELS[key] || key),
      el("td", {}, s.from === "saved" ? `saved by 保存者 ${s.by}, ${when(s.at)}` : s.from === "command line" ? "patrol serve" : "default 默认"),
      el("td", {}, s.from === "saved" ? el("button", { type: "button", class: "secondary", onclick: () => saveSettings({}, [key]) }, "Reset 恢复") : ""))));
}

async function saveSettings(values, reset = []) {
  clearErrors(settingsForm);
  document.getElementById("settings-saved").hidden = true;
  try {
    fill(await api("PATCH", "/api/settings", { values, reset }));
    document.getElementById("settings-saved").hidden = false;
    await loadAudit();
  } catch (error) {
    // the API names fields "values.NAME" (a wrong type) or "NAME" / "home.lat" (a wrong value)
    const fields = {};
    for (const [name, message] of Object.entries(error.fields || {})) fields[name.replace(/^values\./, "")] = message;
    error.fields = fields;
    showErrors(settingsForm, error);
  }
}

settingsForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const now = formValues();
  const changed = {};
  for (const [key, value] of Object.entries(now)) if (JSON.stringify(value) !== JSON.stringify(loaded[key])) changed[key] = value;
  saveSettings(changed);
});
api("GET", "/api/settings").then(fill);
