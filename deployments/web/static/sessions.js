// Past sessions: a student's own list (to read again or carry on), and the transcript of one
// session, which a teacher opens from the class overview too.

import { call } from "./api.js";
import { $, append, clear, el, when } from "./dom.js";

const SESSION = "/api/v1/ai-tutor/session/";

export function sessionCard(entry, { who, onOpen }) {
  const questions = entry.questions ?? [];
  const first = questions[0] ?? "(no questions yet)";
  const more = questions.length > 1 ? ` and ${questions.length - 1} more` : "";
  const time = when(entry.last_at ?? entry.started_at);
  return el(
    "li",
    { class: "card" },
    el("p", { class: "card-meta" }, who ? el("strong", { text: who }) : null, who ? " · " : "", time),
    el("p", { class: "card-title", text: first + more }),
    questions.length > 1 ? el("ul", { class: "questions" }, questions.slice(1, 5).map((q) => el("li", { text: q }))) : null,
    el("button", {
      type: "button",
      class: "quiet",
      "aria-label": `Open the session${who ? ` of ${who}` : ""} from ${time}`,
      text: "Open",
      onclick: () => onOpen(entry.session_id),
    }),
  );
}

export async function transcript(sessionId, target, { title, actions = [] }) {
  const session = await call(SESSION + encodeURIComponent(sessionId));
  const turns = (session.turns ?? []).map((turn) =>
    el(
      "li",
      { class: `line line-${turn.role}` },
      el("span", { class: "speaker", text: turn.role === "user" ? session.user_id : "Tutor" }),
      el("p", { text: turn.content }),
    ),
  );
  const heading = el("h3", { tabindex: "-1", text: title });
  append(clear(target), [
    el(
      "section",
      { class: "transcript", "aria-label": title },
      heading,
      el("p", { class: "hint", text: `Started ${when(session.created_at)}` }),
      turns.length ? el("ol", { class: "lines" }, turns) : el("p", { text: "No questions in this session yet." }),
      actions.map((make) => make(session)),
    ),
  ]);
  heading.focus();
  return session;
}

export class History {
  constructor({ onResume, onError }) {
    this.onResume = onResume;
    this.onError = onError;
  }

  async load() {
    const list = $("sessions");
    const detail = $("session-detail");
    clear(detail);
    append(clear(list), [el("li", { class: "hint", text: "Loading…" })]);
    try {
      const { sessions } = await call("/api/v1/ai-tutor/sessions");
      const cards = sessions.map((entry) => sessionCard(entry, { onOpen: (id) => this.open(id) }));
      append(clear(list), cards.length ? cards : [el("li", { class: "hint", text: "No sessions yet: ask a question first." })]);
    } catch (error) {
      append(clear(list), [el("li", { class: "note note-error", text: `Your sessions could not be loaded: ${error.message}` })]);
      this.onError(error);
    }
  }

  async open(sessionId) {
    const resume = (session) =>
      el("button", { type: "button", text: "Continue this conversation", onclick: () => this.onResume(session) });
    try {
      await transcript(sessionId, $("session-detail"), { title: "Session", actions: [resume] });
    } catch (error) {
      append(clear($("session-detail")), [el("p", { class: "note note-error", text: `This session could not be opened: ${error.message}` })]);
      this.onError(error);
    }
  }
}
