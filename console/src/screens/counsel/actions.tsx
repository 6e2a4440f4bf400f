// The handler's actions on an order: sign off, return, ask for an extension, reply.
import { useState } from "preact/hooks";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { api } from "../../api";
import { ActionStatus, fieldError } from "../../components/ActionStatus";
import { Button } from "../../components/Button";
import { Choices } from "../../components/Choices";
import { Field } from "../../components/Field";
import { ReturnReason } from "../../gen/hotline/v1/work_order_pb.js";
import { enumLabel, fromShanghaiInput, isYuan, toShanghaiInput, useT } from "../../i18n";
import { useOrderAction, type ActionProps } from "../../useOrderAction";

export type { ActionProps };

export function SignOffButton(props: ActionProps) {
  const t = useT();
  const act = useOrderAction(props, "action.signOff");
  const request = { id: props.order.id, version: props.order.version };
  const send = () => act.send(request, (requestId) => api.orders.signOffWorkOrder({ ...request, requestId }));
  return (
    <>
      <Button busy={act.busy} onClick={send} data-testid="sign-off">
        {t("action.signOff")}
      </Button>
      <ActionStatus state={act.state} onRetry={send} />
    </>
  );
}

function FormButtons({ busy, onCancel, testid }: { busy: boolean; onCancel: () => void; testid: string }) {
  const t = useT();
  return (
    <div class="actions">
      <Button type="submit" busy={busy} data-testid={testid}>
        {t("action.submit")}
      </Button>
      <Button kind="quiet" onClick={onCancel} disabled={busy}>
        {t("app.cancel")}
      </Button>
    </div>
  );
}

const text = (v: string) => v.trim();

export function ReturnForm(props: ActionProps) {
  const t = useT();
  const act = useOrderAction(props, "action.return");
  const [reason, setReason] = useState<ReturnReason>();
  const [note, setNote] = useState("");
  const [missing, setMissing] = useState(false);

  function submit(e?: Event) {
    e?.preventDefault();
    setMissing(!reason);
    if (!reason) return;
    const request = { id: props.order.id, version: props.order.version, reason, note: text(note) };
    act.send(request, (requestId) => api.orders.returnWorkOrder({ ...request, requestId }));
  }

  const reasons = [ReturnReason.WRONG_LOCALITY, ReturnReason.NOT_OUR_REMIT, ReturnReason.DUPLICATE];
  return (
    <form class="card action-form" onSubmit={submit} noValidate data-testid="return-form">
      <h2>{t("action.return")}</h2>
      <Field
        label={t("form.reason")}
        for="reason"
        error={missing ? t("form.required") : fieldError(act.state, "reason")}
      >
        <Choices
          name="reason"
          value={reason}
          onChange={setReason}
          invalid={missing}
          choices={reasons.map((r) => ({ value: r, label: enumLabel(t, "returnReason", r), testid: `reason-${r}` }))}
        />
      </Field>
      <Field label={t("form.note")} for="note" error={fieldError(act.state, "note")}>
        <textarea id="note" maxLength={1000} value={note} onInput={(e) => setNote(e.currentTarget.value)} />
      </Field>
      <ActionStatus state={act.state} shown={["reason", "note"]} onRetry={submit} />
      <FormButtons busy={act.busy} onCancel={props.onCancel} testid="submit-return" />
    </form>
  );
}

export function ExtensionForm(props: ActionProps) {
  const t = useT();
  const act = useOrderAction(props, "action.extension");
  const [days, setDays] = useState(3);
  const [reason, setReason] = useState("");
  const [missing, setMissing] = useState(false);

  function submit(e?: Event) {
    e?.preventDefault();
    setMissing(!text(reason));
    if (!text(reason)) return;
    const request = { id: props.order.id, version: props.order.version, days, reason: text(reason) };
    act.send(request, (requestId) => api.orders.requestExtension({ ...request, requestId }));
  }

  return (
    <form class="card action-form" onSubmit={submit} noValidate data-testid="extension-form">
      <h2>{t("action.extension")}</h2>
      <Field label={t("form.days")} for="days" error={fieldError(act.state, "days")}>
        <select id="days" value={days} onChange={(e) => setDays(Number(e.currentTarget.value))}>
          {[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => (
            <option key={d} value={d}>
              {d}
            </option>
          ))}
        </select>
      </Field>
      <Field
        label={t("form.reason")}
        for="reason"
        error={missing ? t("form.required") : fieldError(act.state, "reason")}
      >
        <textarea id="reason" maxLength={1000} value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      </Field>
      <ActionStatus state={act.state} shown={["days", "reason"]} onRetry={submit} />
      <FormButtons busy={act.busy} onCancel={props.onCancel} testid="submit-extension" />
    </form>
  );
}

export function ReplyForm(props: ActionProps) {
  const t = useT();
  const act = useOrderAction(props, "action.reply");
  const [resolved, setResolved] = useState<"yes" | "no">("yes");
  const [unresolvedReason, setUnresolvedReason] = useState("");
  const [notes, setNotes] = useState("");
  const [contactedAt, setContactedAt] = useState(() => toShanghaiInput(new Date()));
  const [amount, setAmount] = useState("");
  const [checked, setChecked] = useState<Record<string, string>>({});

  function submit(e?: Event) {
    e?.preventDefault();
    const problems: Record<string, string> = {};
    if (!text(notes)) problems.notes = t("form.required");
    if (resolved === "no" && !text(unresolvedReason)) problems.unresolvedReason = t("form.required");
    if (text(amount) && !isYuan(amount)) problems.amount = t("form.amountBad");
    const contacted = contactedAt ? fromShanghaiInput(contactedAt) : undefined;
    if (contactedAt && !contacted) problems.contactedAt = t("form.required");
    setChecked(problems);
    if (Object.keys(problems).length > 0) return;
    const result = {
      resolved: resolved === "yes",
      unresolvedReason: resolved === "no" ? text(unresolvedReason) : "",
      notes: text(notes),
      amountRecovered: text(amount),
      contactedAt: contacted ? timestampFromDate(contacted) : undefined,
    };
    const request = { id: props.order.id, version: props.order.version, result };
    act.send(request, (requestId) => api.orders.replyWorkOrder({ ...request, requestId }));
  }

  const err = (local: string, path: string) => checked[local] ?? fieldError(act.state, path);
  /** A setter that also clears the field's own error, once it is being corrected. */
  const edit = (key: string, set: (v: string) => void) => (e: { currentTarget: { value: string } }) => {
    set(e.currentTarget.value);
    if (checked[key]) setChecked(({ [key]: _, ...rest }) => rest);
  };
  return (
    <form class="card action-form" onSubmit={submit} noValidate data-testid="reply-form">
      <h2>{t("action.reply")}</h2>
      <Field label={t("form.resolved")} for="resolved">
        <Choices
          name="resolved"
          inline
          value={resolved}
          onChange={setResolved}
          choices={[
            { value: "yes", label: t("form.yes"), testid: "resolved-yes" },
            { value: "no", label: t("form.no"), testid: "resolved-no" },
          ]}
        />
      </Field>
      {resolved === "no" && (
        <Field
          label={t("form.unresolvedReason")}
          for="unresolvedReason"
          error={err("unresolvedReason", "result.unresolved_reason")}
        >
          <textarea
            id="unresolvedReason"
            maxLength={1000}
            value={unresolvedReason}
            onInput={edit("unresolvedReason", setUnresolvedReason)}
          />
        </Field>
      )}
      <Field
        label={t("form.notes")}
        for="notes"
        error={err("notes", "result.notes")}
        hint={t("form.chars", { n: notes.length, max: 4000 })}
      >
        <textarea id="notes" maxLength={4000} value={notes} onInput={edit("notes", setNotes)} />
      </Field>
      <Field label={t("form.contactedAt")} for="contactedAt" error={err("contactedAt", "result.contacted_at")}>
        <input
          id="contactedAt"
          type="datetime-local"
          value={contactedAt}
          onInput={edit("contactedAt", setContactedAt)}
        />
      </Field>
      <Field
        label={t("form.amountRecovered")}
        for="amount"
        error={err("amount", "result.amount_recovered")}
        hint={t("form.amountHint")}
      >
        <input id="amount" inputMode="decimal" autocomplete="off" value={amount} onInput={edit("amount", setAmount)} />
      </Field>
      <ActionStatus state={act.state} shown={["result"]} onRetry={submit} />
      <FormButtons busy={act.busy} onCancel={props.onCancel} testid="submit-reply" />
    </form>
  );
}
