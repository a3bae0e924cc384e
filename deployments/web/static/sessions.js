// Past sessions: a student's own list (to read again or carry on), and the transcript of one
// session, which a teacher opens from the class overview too.

import { ApiError, call } from "./api.js";
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
      onclick: () => onOpen(entry),
    }),
  );
}

// The session's turns; an ended or expired one (no longer in the session store) shows the
// questions the request log kept of it.
export async function transcript(entry, target, { title, actions = [] }) {
  let session = null;
  try {
    session = await call(SESSION + encodeURIComponent(entry.session_id));
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 404) throw error;
  }
  const heading = el("h3", { tabindex: "-1", text: title });
  const body = session ? turns(session) : questionsOnly(entry);
  append(clear(target), [
    el(
      "section",
      { class: "transcript", "aria-label": title },
      heading,
      body,
      session ? actions.map((make) => make(session)) : null,
    ),
  ]);
  heading.focus();
}

function turns(session) {
  const lines = (session.turns ?? []).map((turn) =>
    el(
      "li",
      { class: `line line-${turn.role}` },
      el("span", { class: "speaker", text: turn.role === "user" ? session.user_id : "Tutor" }),
      el("p", { text: turn.content }),
    ),
  );
  return [
    el("p", { class: "hint", text: `Started ${when(session.created_at)}` }),
    lines.length ? el("ol", { class: "lines" }, lines) : el("p", { text: "No questions in this session yet." }),
  ];
}

function questionsOnly(entry) {
  const questions = (entry.questions ?? []).map((q) => el("li", { class: "line line-user" }, el("p", { text: q })));
  return [
    el("p", { class: "hint", text: "This session has ended: only its questions are kept." }),
    el("ol", { class: "lines" }, questions),
  ];
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
      const cards = sessions.map((entry) => sessionCard(entry, { onOpen: (e) => this.open(e) }));
      append(clear(list), cards.length ? cards : [el("li", { class: "hint", text: "No sessions yet: ask a question first." })]);
    } catch (error) {
      append(clear(list), [el("li", { class: "note note-error", text: `Your sessions could not be loaded: ${error.message}` })]);
      this.onError(error);
    }
  }

  async open(entry) {
    const resume = (session) =>
      el("button", { type: "button", text: "Continue this conversation", onclick: () => this.onResume(session) });
    try {
      await transcript(entry, $("session-detail"), { title: "Session", actions: [resume] });
    } catch (error) {
      append(clear($("session-detail")), [el("p", { class: "note note-error", text: `This session could not be opened: ${error.message}` })]);
      this.onError(error);
    }
  }
}
