import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../../api";
import { useAction } from "../../action";
import { ActionStatus, fieldError } from "../../components/ActionStatus";
import { Field } from "../../components/Field";
import type { Agent } from "../../gen/hotline/v1/seats_pb.js";
import { useT } from "../../i18n";
import { KeyButton } from "./keys";

const SEAT_KEY = "hotline.seat";

function savedSeat(): string {
  try {
    return localStorage.getItem(SEAT_KEY) ?? "";
  } catch {
    return "";
  }
}

/** The seat (console position) the agent signs in to; remembered on this machine. */
export function SeatSignIn({ agent, onSignedIn }: { agent?: Agent; onSignedIn: (a: Agent) => void }) {
  const t = useT();
  const [seat, setSeat] = useState(agent?.seat || savedSeat());
  const [missing, setMissing] = useState(false);
  const action = useAction();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  async function submit(e?: Event) {
    e?.preventDefault();
    if (action.busy) return;
    const name = seat.trim();
    setMissing(!name);
    if (!name) return input.current?.focus();
    const answer = (await action.run({ seat: name }, () => api.seats.signInSeat({ seat: name }))).answer;
    if (!answer) return input.current?.focus();
    try {
      localStorage.setItem(SEAT_KEY, name);
    } catch {
      // Private mode: typed again next time.
    }
    onSignedIn(answer);
  }

  const skills = agent?.skills ?? [];
  return (
    <main class="screen seat-signin">
      <form class="card" onSubmit={submit} noValidate data-testid="seat-sign-in">
        <h1>{t("seat.signIn")}</h1>
        <p class="muted">{t("seat.signInHint")}</p>
        <Field
          label={t("seat.name")}
          for="seat-name"
          hint={t("seat.nameHint")}
          error={missing ? t("intake.required") : fieldError(action.state, "seat")}
        >
          <input
            id="seat-name"
            ref={input}
            value={seat}
            maxLength={64}
            autocomplete="off"
            onInput={(e) => setSeat(e.currentTarget.value)}
          />
        </Field>
        <div class="field">
          <span class="field-label">{t("seat.skills")}</span>
          <div>{skills.length ? skills.join("、") : <span class="muted">{t("seat.skillsNone")}</span>}</div>
          <div class="field-hint">{t("seat.skillsHint")}</div>
        </div>
        <ActionStatus state={action.state} shown={["seat"]} onRetry={() => submit()} />
        <KeyButton
          kind="primary"
          type="submit"
          k="Enter"
          busy={action.busy}
          class="btn-block"
          data-testid="seat-submit"
        >
          {t("seat.submitSignIn")}
        </KeyButton>
      </form>
    </main>
  );
}
