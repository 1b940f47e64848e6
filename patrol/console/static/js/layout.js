import { api } from "./api.js";

document.getElementById("sign-out")?.addEventListener("click", async () => {
  await api("DELETE", "/api/session").catch(() => {});
  location.href = "/login";
});
