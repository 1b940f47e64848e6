import { api, showErrors, clearErrors, ApiError } from "./api.js";

const form = document.getElementById("password-form");
const done = document.getElementById("password-done");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  done.hidden = true;
  if (form.new.value !== form.again.value) {
    const message = "the two new passwords differ 两次输入的新密码不同";
    return showErrors(form, new ApiError(400, { error: message, fields: { again: message } }));
  }
  try {
    await api("POST", "/api/session/password", { current: form.current.value, new: form.new.value });
    form.reset();
    done.hidden = false;
  } catch (error) { showErrors(form, error); }
});
