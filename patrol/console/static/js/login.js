import { api, showErrors, formJson } from "./api.js";

const form = document.getElementById("login-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("POST", "/api/session", formJson(form));
    location.href = form.dataset.next || "/";
  } catch (error) {
    showErrors(form, error);
  }
});
