// The student's conversation: questions asked in one session (started on the first question,
// passed with every follow-up), answers streamed in, a quota reached said in plain words.

import { ApiError, call, stream } from "./api.js";
import { AnswerView } from "./answer.js";
import { $, clear, show } from "./dom.js";

const QUERY = "/api/v1/ai-tutor/query";
const LIMITS = {
  burst: "questions a minute",
  daily_questions: "questions a day",
  daily_tokens: "answers' length for today",
};

export class Conversation {
  // onAuthError(error) is told of a 401: the page goes back to signing in.
  constructor({ onAuthError }) {
    this.onAuthError = onAuthError;
    this.sessionId = null;
    this.busy = false;
    this.abort = null;
    this.blockedUntil = 0; // a quota reached: no asking before this time (ms)
    this.form = $("ask-form");
    this.input = $("question");
    this.button = $("ask-button");
    this.status = $("ask-status");
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    $("new-conversation").addEventListener("click", () => this.reset(true));
  }

  submit() {
    const question = this.input.value.trim();
    if (!question || this.busy || Date.now() < this.blockedUntil) return;
    this.input.value = "";
    this.ask(question);
  }

  async ask(question) {
    if (this.busy) return;
    this.setBusy(true);
    this.status.textContent = "";
    const view = new AnswerView(question, {
      onPractice: (topic) => this.ask(`Quiz me on ${topic}`),
      onError: (error) => this.failed(error),
    });
    $("turns").append(view.node);
    show($("empty-conversation"), false);
    this.abort = new AbortController();
    try {
      await this.answer(question, view, this.abort.signal);
    } catch (error) {
      this.fail(error, question, view);
    } finally {
      this.abort = null;
      this.setBusy(false);
    }
  }

  async answer(question, view, signal) {
    for (let attempt = 1; ; attempt++) {
      if (!this.sessionId) this.sessionId = await this.start(signal);
      const body = { question, session_id: this.sessionId, stream: true };
      try {
        for await (const event of stream(QUERY, body, signal)) view.on(event);
        return view.ended();
      } catch (error) {
        // A session idle past its expiry is gone: a new one carries on.
        if (attempt > 1 || !(error instanceof ApiError) || error.type !== "session_not_found") throw error;
        this.sessionId = null;
      }
    }
  }

  async start(signal) {
    const started = await call("/api/v1/ai-tutor/session/start", { method: "POST", body: {}, signal });
    return started.session_id;
  }

  fail(error, question, view) {
    if (error.name === "AbortError") return view.stop("Stopped.");
    if (error instanceof ApiError && error.status === 429) {
      view.node.remove();
      show($("empty-conversation"), !$("turns").childElementCount);
      if (!this.input.value) this.input.value = question; // to send again when allowed
      return this.quotaReached(error);
    }
    view.stop(`No answer: ${error.message}`);
    this.failed(error);
  }

  failed(error) {
    if (error instanceof ApiError && error.status === 401) this.onAuthError(error);
  }

  quotaReached(error) {
    const seconds = error.retryAfterS ?? 60;
    const at = new Date(Date.now() + seconds * 1000);
    const time = at.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
    const limit = LIMITS[error.detail.limit];
    const reason = limit ? `You have reached your limit of ${limit}.` : "You have reached your limit for now.";
    this.status.textContent = `${reason} You can ask again at ${time} (in ${duration(seconds)}).`;
    this.status.className = "status status-wait";
    this.blockedUntil = at.getTime();
    this.button.disabled = true;
    setTimeout(() => {
      if (Date.now() < this.blockedUntil) return; // a later refusal set a later time
      this.button.disabled = this.busy;
      this.status.textContent = "You can ask again now.";
      this.status.className = "status";
    }, seconds * 1000 + 50);
  }

  setBusy(busy) {
    this.busy = busy;
    this.form.setAttribute("aria-busy", String(busy));
    this.button.disabled = busy || Date.now() < this.blockedUntil;
    this.button.textContent = busy ? "Answering…" : "Ask";
  }

  // A new conversation: the next question starts a new session.
  reset(focus = false) {
    this.abort?.abort();
    this.sessionId = null;
    clear($("turns"));
    show($("empty-conversation"), true);
    this.status.textContent = "";
    if (focus) this.input.focus();
  }

  // Carry on a stored session: its turns shown, the next question asked in it.
  resume(session) {
    this.reset();
    this.sessionId = session.id;
    const turns = session.turns ?? [];
    for (let i = 0; i < turns.length; i++) {
      if (turns[i].role !== "user") continue;
      const reply = turns[i + 1]?.role === "assistant" ? turns[i + 1].content : "";
      $("turns").append(AnswerView.settled(turns[i].content, reply).node);
    }
    show($("empty-conversation"), !turns.length);
  }
}

export function duration(seconds) {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} seconds`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} minutes`;
  return `${Math.round(seconds / 3600)} hours`;
}
