// Sign in / register (and Google sign-in when the server has GOOGLE_CLIENT_ID), and the header's user menu.
import { api, authed } from "../api.js";
import { card, h, note } from "../dom.js";
import { session } from "../session.js";

const RETURN_KEY = "mdash.return";
const GOOGLE_SCRIPT = "https://accounts.google.com/gsi/client";

/** A card asking to sign in to use `what`; brings the user back here afterwards. */
export function signInPrompt(title, what) {
  return card(title, h("div", { class: "empty-state" }, note(`Sign in to ${what}.`),
    h("a", { class: "button primary", href: "#/login", text: "Sign in or register", onclick: () => sessionStorage.setItem(RETURN_KEY, location.hash) })));
}

function finish(data) {
  session.start(data);
  const back = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  location.hash = back && back !== "#/login" ? back : "#/";
}

function googleButton(clientId, say) {
  const slot = h("div", { class: "google-signin" });
  const start = () => {
    window.google.accounts.id.initialize({
      client_id: clientId,
      callback: (response) => api("/auth/google-login", { method: "POST", body: { credential: response.credential } })
        .then(({ data }) => finish(data)).catch((err) => say(err.text)),
    });
    window.google.accounts.id.renderButton(slot, { theme: document.documentElement.dataset.theme === "dark" ? "filled_black" : "outline", size: "large" });
  };
  if (window.google?.accounts) start();
  else document.head.append(h("script", { src: GOOGLE_SCRIPT, async: true, onload: start, onerror: () => say("Google sign-in could not be loaded.") }));
  return slot;
}

/** #/login: sign-in and register forms. */
export function renderSignIn(view) {
  if (session.user()) {
    view.append(card("Account", h("div", {}, note(`Signed in as ${session.user().name} (${session.user().email}).`),
      h("button", { type: "button", class: "button", text: "Sign out", onclick: signOut }))));
    return () => {};
  }
  const message = h("p", { class: "note note-error", role: "alert", hidden: true });
  const say = (text) => { message.textContent = text; message.hidden = false; };
  let mode = "login";
  const nameField = h("label", { class: "field", hidden: true }, h("span", { text: "Name" }), h("input", { name: "name", autocomplete: "name", maxlength: "100" }));
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true, minlength: "8" });
  const submit = h("button", { type: "submit", class: "button primary", text: "Sign in" });
  const tabs = ["login", "register"].map((value) => h("button", { type: "button", class: "seg", dataset: { mode: value },
    text: value === "login" ? "Sign in" : "Register", onclick: () => setMode(value) }));
  const setMode = (value) => {
    mode = value;
    nameField.hidden = mode === "login";
    password.autocomplete = mode === "login" ? "current-password" : "new-password";
    submit.textContent = mode === "login" ? "Sign in" : "Create account";
    tabs.forEach((t) => t.setAttribute("aria-pressed", String(t.dataset.mode === mode)));
    message.hidden = true;
  };
  const send = async (event) => {
    event.preventDefault();
    const body = { email: email.value.trim(), password: password.value };
    if (mode === "register") body.name = nameField.querySelector("input").value.trim();
    submit.disabled = true;
    try {
      const { data } = await api(`/auth/${mode}`, { method: "POST", body });
      finish(data);
    } catch (err) {
      say(err.text);
    } finally {
      submit.disabled = false;
    }
  };
  setMode("login");
  const clientId = document.body.dataset.googleClientId;
  view.append(h("div", { class: "auth" }, card("Welcome", h("div", {},
    h("div", { class: "segmented", role: "group", "aria-label": "Sign in or register" }, ...tabs),
    h("form", { class: "auth-form", novalidate: true, onsubmit: send }, nameField,
      h("label", { class: "field" }, h("span", { text: "Email" }), email),
      h("label", { class: "field" }, h("span", { text: "Password" }), password), submit, message),
    clientId ? h("div", { class: "or" }, h("span", { text: "or" })) : null,
    clientId ? googleButton(clientId, say) : null,
    note("Paper trading only: every account starts with virtual cash.")))));
  return () => {};
}

/** Revoke the tokens on the server (best effort) and forget them here. */
export async function signOut() {
  const refresh = session.refreshToken();
  await authed("/auth/logout", { method: "POST", body: refresh ? { refresh_token: refresh } : {} }).catch(() => {});
  session.clear();
  location.hash = "#/";
}

/** The header's user menu: "Sign in", or the user's name and "Sign out"; checks a stored session once. */
export function startUserMenu(el) {
  const render = (user) => {
    el.replaceChildren(user
      ? h("span", { class: "user" }, h("span", { class: "user-name", text: user.name, title: user.email }),
        h("button", { type: "button", class: "button", text: "Sign out", onclick: signOut }))
      : h("a", { class: "button primary", href: "#/login", text: "Sign in", onclick: () => sessionStorage.setItem(RETURN_KEY, location.hash) }));
  };
  render(session.user());
  session.onChange(render);
  if (session.user()) authed("/auth/me").then(({ data }) => session.setUser(data.user)).catch(() => {});
}
