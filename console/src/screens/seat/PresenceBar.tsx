import { useLayoutEffect, useRef, useState } from "preact/hooks";
import { api } from "../../api";
import { useAction } from "../../action";
import { ActionStatus, fieldError } from "../../components/ActionStatus";
import { Presence, type Agent } from "../../gen/hotline/v1/seats_pb.js";
import { enumLabel, useT } from "../../i18n";
import { formatDuration, secondsSince, useTick, type LiveQueue } from "../../queue";
import { KeyButton, useShortcuts } from "./keys";

export type TodayFigures = { answered: number; recorded: number; orders: number };

const ICONS: Record<number, string> = {
  [Presence.OFFLINE]: "○",
  [Presence.AVAILABLE]: "●",
  [Presence.ON_CALL]: "☎",
  [Presence.WRAP_UP]: "✎",
  [Presence.BREAK]: "☕",
};

/** The agent's presence with its timer, and the word for it (never the colour alone). */
export function PresenceBadge({ agent, now, offsetMs }: { agent: Agent; now: number; offsetMs: number }) {
  const t = useT();
  const secs = secondsSince(agent.since, now, offsetMs);
  const word = agent.ringing ? t("presence.ringing") : enumLabel(t, "presence", agent.presence);
  return (
    <span
      class={`presence presence-${agent.ringing ? "ringing" : agent.presence}`}
      data-testid="presence"
      data-presence={agent.presence}
      role="status"
    >
      <span aria-hidden="true">{agent.ringing ? "☏" : ICONS[agent.presence]} </span>
      <strong>{word}</strong>
      {agent.presence === Presence.BREAK && agent.breakReason && <span>（{agent.breakReason}）</span>}
      {secs !== undefined && agent.presence !== Presence.OFFLINE && (
        <span class="presence-timer"> {t("presence.since", { d: formatDuration(secs) })}</span>
      )}
    </span>
  );
}

type Open = "none" | "break" | "offline";

/**
 * The bar across the seat console: seat and presence with its timer, the presence keys
 * (ready, break with a reason, offline), the queue and the agent's figures today.
 */
export function PresenceBar({
  agent,
  queue,
  today,
  onAgent,
  readyRef,
  unfinished = 0,
}: {
  agent: Agent;
  queue: LiveQueue;
  today?: TodayFigures;
  /** Calls at this seat not fully recorded yet (their desks close when going offline). */
  unfinished?: number;
  onAgent: (a: Agent) => void;
  readyRef: { current: HTMLButtonElement | null };
}) {
  const t = useT();
  const now = useTick(1000);
  const [open, setOpen] = useState<Open>("none");
  const [reason, setReason] = useState("");
  const [reasonMissing, setReasonMissing] = useState(false);
  const returnTo = useRef<HTMLElement | null>(null);
  const reasonInput = useRef<HTMLInputElement>(null);
  const confirmButton = useRef<HTMLButtonElement>(null);
  const action = useAction();
  const onCall = agent.presence === Presence.ON_CALL || agent.ringing;

  useLayoutEffect(() => {
    if (open === "break") reasonInput.current?.focus();
    if (open === "offline") confirmButton.current?.focus();
  }, [open]);

  function openStep(step: Open) {
    if (onCall && step !== "none") return;
    returnTo.current = document.activeElement as HTMLElement | null;
    setReason("");
    setReasonMissing(false);
    action.reset();
    setOpen(step);
  }

  function close() {
    setOpen("none");
    const back = returnTo.current;
    setTimeout(() => (back?.isConnected ? back : readyRef.current)?.focus(), 0);
  }

  async function ready() {
    if (onCall || action.busy) return;
    const req = { presence: Presence.AVAILABLE, breakReason: "" };
    const a = (await action.run(req, () => api.seats.setPresence(req))).answer;
    if (a) {
      onAgent(a);
      setOpen("none");
    }
  }

  async function startBreak(e?: Event) {
    e?.preventDefault();
    if (action.busy) return;
    const text = reason.trim();
    setReasonMissing(!text);
    if (!text) return reasonInput.current?.focus();
    const req = { presence: Presence.BREAK, breakReason: text };
    const a = (await action.run(req, () => api.seats.setPresence(req))).answer;
    if (a) {
      onAgent(a);
      close();
    }
  }

  async function signOut() {
    if (action.busy) return;
    const a = (await action.run({ signOut: true }, () => api.seats.signOutSeat({ agentId: "" }))).answer;
    if (a) onAgent(a);
  }

  useShortcuts({
    "Alt+KeyR": () => void ready(),
    "Alt+KeyB": () => openStep("break"),
    "Alt+KeyO": () => openStep("offline"),
    Escape: open === "none" ? undefined : close,
  });

  const waiting = queue.snapshot?.callsWaiting ?? 0n;
  const oldest = secondsSince(queue.snapshot?.oldestOfferedAt, now, queue.offsetMs);
  const reasons = t("seat.breakReasons").split("|");

  return (
    <div class="seat-bar" data-testid="seat-bar">
      <div class="seat-bar-row">
        <span class="seat-name">{t("seat.seatLabel", { seat: agent.seat })}</span>
        {agent.skills.length > 0 && <span class="muted seat-skills">{agent.skills.join("、")}</span>}
        <PresenceBadge agent={agent} now={now} offsetMs={queue.offsetMs} />
        <span class="seat-keys">
          <KeyButton
            k="Alt+KeyR"
            kind={agent.presence === Presence.WRAP_UP || agent.presence === Presence.BREAK ? "primary" : "secondary"}
            off={onCall}
            busy={action.busy && open === "none"}
            title={onCall ? t("seat.readyAfterCall") : undefined}
            onClick={ready}
            btnRef={readyRef}
            data-testid="ready"
          >
            {t("seat.ready")}
          </KeyButton>
          <KeyButton k="Alt+KeyB" off={onCall} onClick={() => openStep("break")} data-testid="break">
            {t("seat.break")}
          </KeyButton>
          <KeyButton k="Alt+KeyO" off={onCall} onClick={() => openStep("offline")} data-testid="offline">
            {t("seat.offline")}
          </KeyButton>
        </span>
        <span class="seat-queue" data-testid="seat-queue">
          <span class={`queue-fig${waiting > 0n ? " queue-busy" : ""}`}>
            {t("seat.waiting")} <strong data-testid="seat-waiting">{String(waiting)}</strong>
          </span>
          <span class="queue-fig">
            {t("seat.oldest")} <strong>{oldest === undefined ? "—" : formatDuration(oldest)}</strong>
          </span>
          {today && (
            <span class="queue-fig" data-testid="seat-today">
              {t("seat.today")} {t("seat.todayAnswered", { n: today.answered })} ·{" "}
              {t("seat.todayRecorded", { n: today.recorded })} · {t("seat.todayOrders", { n: today.orders })}
            </span>
          )}
          <span
            class={`live-dot live-${queue.status}`}
            title={queue.status === "live" ? t("seat.live") : t("seat.reconnecting")}
          >
            <span aria-hidden="true">{queue.status === "live" ? "◉" : "◌"}</span>
            <span class="sr-only">{queue.status === "live" ? t("seat.live") : t("seat.reconnecting")}</span>
          </span>
        </span>
      </div>
      {open === "break" && (
        <form class="seat-bar-step" onSubmit={startBreak} data-testid="break-form">
          <label for="break-reason">{t("seat.breakReason")}</label>
          <input
            id="break-reason"
            ref={reasonInput}
            list="break-reasons"
            value={reason}
            maxLength={1000}
            aria-invalid={reasonMissing ? "true" : undefined}
            onInput={(e) => setReason(e.currentTarget.value)}
          />
          <datalist id="break-reasons">
            {reasons.map((r) => (
              <option key={r} value={r} />
            ))}
          </datalist>
          <KeyButton kind="primary" type="submit" k="Enter" busy={action.busy}>
            {t("seat.breakGo")}
          </KeyButton>
          <KeyButton k="Escape" onClick={close}>
            {t("app.cancel")}
          </KeyButton>
          {(reasonMissing || fieldError(action.state, "break_reason")) && (
            <span class="field-error" role="alert">
              ⚠ {reasonMissing ? t("intake.required") : fieldError(action.state, "break_reason")}
            </span>
          )}
        </form>
      )}
      {open === "offline" && (
        <div class="seat-bar-step" role="alertdialog" aria-label={t("seat.offlineConfirm")}>
          <span>{t("seat.offlineConfirm")}</span>
          {unfinished > 0 && (
            <strong class="field-error" role="alert">
              ⚠ {t("seat.offlineUnfinished", { n: unfinished })}
            </strong>
          )}
          <KeyButton
            kind="danger"
            k="Enter"
            busy={action.busy}
            onClick={signOut}
            btnRef={confirmButton}
            data-testid="offline-go"
          >
            {t("seat.offlineGo")}
          </KeyButton>
          <KeyButton k="Escape" onClick={close}>
            {t("app.cancel")}
          </KeyButton>
        </div>
      )}
      <ActionStatus
        state={action.state}
        shown={["break_reason"]}
        onRetry={open === "break" ? () => startBreak() : ready}
      />
    </div>
  );
}
