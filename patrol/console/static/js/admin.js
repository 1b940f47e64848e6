import { api, el, showErrors, formJson, when, confirmAction } from "./api.js";

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
