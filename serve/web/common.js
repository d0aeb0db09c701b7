// common.js: what both pages share. The bearer token is asked for once,
// kept in sessionStorage (this tab only; gone when the tab closes) and sent
// in the Authorization header, never in a URL. Every call goes to this
// page's own origin.
"use strict";

const ML = (() => {
  const KEY = "metalearn-token";

  function token() {
    try { return sessionStorage.getItem(KEY) || ""; } catch (e) { return ""; }
  }

  function setToken(t) {
    try {
      if (t) sessionStorage.setItem(KEY, t); else sessionStorage.removeItem(KEY);
    } catch (e) { /* storage disabled: the token lives until reload */ }
    memo = t;
  }
  let memo = "";

  // api calls path on this origin with a JSON body (or none) and returns the
  // decoded JSON answer; a non-2xx answer throws an Error carrying the
  // server's message and .status.
  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    const t = token() || memo;
    if (t) headers["Authorization"] = "Bearer " + t;
    const init = { method, headers, credentials: "same-origin", cache: "no-store", redirect: "error" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    const resp = await fetch(path, init);
    let data = null;
    try { data = await resp.json(); } catch (e) { data = null; }
    if (!resp.ok) {
      const err = new Error((data && data.error) || (resp.status + " " + resp.statusText));
      err.status = resp.status;
      if (resp.status === 401) authNeeded(err.message);
      throw err;
    }
    return data;
  }

  // el builds an element: el("div", {class: "x", text: "y"}, child, ...).
  function el(tag, attrs, ...kids) {
    const svg = ["svg", "line", "polyline", "text", "g", "rect", "path", "circle"].includes(tag);
    const e = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "on") for (const [ev, f] of Object.entries(v)) e.addEventListener(ev, f);
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const k of kids) if (k !== null && k !== undefined) e.append(k);
    return e;
  }

  let onAuth = () => {};
  function authNeeded(msg) {
    const form = document.getElementById("auth");
    if (!form) return;
    form.classList.add("needed");
    const st = document.getElementById("auth-status");
    if (st) st.textContent = msg || "token needed";
    document.getElementById("token").focus();
  }

  // initAuth wires the token form; changed() runs after a new token.
  function initAuth(changed) {
    onAuth = changed || onAuth;
    const form = document.getElementById("auth");
    const input = document.getElementById("token");
    const st = document.getElementById("auth-status");
    const show = () => { st.textContent = token() ? "token set for this tab" : "no token"; };
    show();
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      setToken(input.value.trim());
      input.value = "";
      form.classList.remove("needed");
      show();
      onAuth();
    });
    document.getElementById("forget").addEventListener("click", () => {
      setToken("");
      show();
    });
  }

  return { api, el, token, initAuth };
})();
