import { api, el, when, confirmAction } from "./api.js";

async function load() {
  const { patrols } = await api("GET", "/api/patrols");
  document.querySelector("#patrol-list tbody").replaceChildren(...patrols.map((p) =>
    el("tr", { "data-patrol": p.id },
      el("td", {}, p.id), el("td", {}, el("a", { href: `/patrols/${p.id}` }, p.name)),
      el("td", {}, when(p.created_at)), el("td", {}, el("span", { class: "badge" }, p.status)),
      el("td", {}, p.sorties.map((s) => `#${s.id} ${s.status}`).join(", ")),
      el("td", {}, p.sorties.some((s) => s.status !== "completed")
        ? el("button", { type: "button", class: "secondary", onclick: () => resume(p) }, "Resume 继续") : ""))));
}

async function resume(p) {
  if (!confirmAction(`Resume patrol ${p.id}? 继续巡逻 ${p.id}？`)) return;
  try { await api("POST", `/api/patrols/${p.id}/resume`); location.href = "/fly"; }
  catch (error) { alert(error.message); }
}

load();
