// The page: sign in (a pasted bearer token, or none when the tutor runs with AUTH_MODE=off),
// who is signed in, and the views a role may use.

import { ApiError, call, token } from "./api.js";
import { Conversation } from "./conversation.js";
import { $, show } from "./dom.js";
import { History } from "./sessions.js";
import { TeacherView } from "./teacher.js";

const VIEWS = ["loading", "sign-in", "ask", "history", "teacher"];
const onError = (error) => {
  if (error instanceof ApiError && error.status === 401) signedOut("Your sign-in has expired or was refused: please sign in again.");
};
const conversation = new Conversation({ onAuthError: onError });
const history = new History({ onResume: resume, onError });
const teacher = new TeacherView({ onError });
let me = null;

function notice(message) {
  $("notice").textContent = message ?? "";
  show($("notice"), Boolean(message));
}

function open(view, focus = true) {
  for (const name of VIEWS) show($(name), name === view);
  for (const button of $("views").querySelectorAll("button")) {
    if (button.dataset.view === view) button.setAttribute("aria-current", "page");
    else button.removeAttribute("aria-current");
  }
  if (view === "history") history.load();
  if (view === "teacher") teacher.load();
  // Where a keyboard user starts typing: the box to fill, else the view's heading.
  const start = { ask: "question", "sign-in": "token" }[view] ?? `${view}-title`;
  if (focus) $(start)?.focus();
}

function resume(session) {
  conversation.resume(session);
  open("ask");
}

function signedIn(who) {
  me = who;
  const classes = who.classes?.length ? ` · ${who.classes.join(", ")}` : "";
  $("who").textContent = `${who.user_id} (${who.role})${classes}`;
  show($("account"), true);
  show($("sign-out"), Boolean(token.get())); // with AUTH_MODE=off there is no one to sign out
  show($("views"), true);
  show($("views").querySelector("[data-view=teacher]"), who.role === "teacher" || who.role === "admin");
  notice("");
  open(who.role === "teacher" ? "teacher" : "ask");
}

function signedOut(message) {
  token.clear();
  me = null;
  conversation.reset();
  show($("account"), false);
  show($("views"), false);
  notice(message);
  open("sign-in");
}

async function whoAmI() {
  try {
    signedIn(await call("/api/v1/me"));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      open("sign-in", false);
      return notice(`The tutor could not be reached: ${error.message}`);
    }
    signedOut(token.get() ? "That token was not accepted: check it and sign in again." : "");
  }
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const pasted = $("token").value.trim().replace(/^Bearer\s+/i, "");
  $("token").value = "";
  if (!pasted) return;
  token.set(pasted);
  whoAmI();
});
$("sign-out").addEventListener("click", () => signedOut("You have signed out."));
$("views").addEventListener("click", (event) => {
  const view = event.target.closest("button")?.dataset.view;
  if (view && me) open(view);
});

whoAmI();
