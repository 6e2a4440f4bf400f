// The dispatcher's decisions, one per row: dispatch, review a return, decide an
// extension, review a reply, pass on a redo.
import { useState } from "preact/hooks";
import { api } from "../../api";
import { ActionStatus, fieldError } from "../../components/ActionStatus";
import { Button } from "../../components/Button";
import { CandidatePicker } from "../../components/CandidatePicker";
import { Field } from "../../components/Field";
import { usePersonName, useUnitName } from "../../directory";
import type { ActionResponse, Target, WorkOrder } from "../../gen/hotline/v1/work_order_pb.js";
import { useT } from "../../i18n";
import { useOrderAction, type ActionProps } from "../../useOrderAction";

export type DecisionProps = Pick<ActionProps, "onDone" | "onStale"> & { order: WorkOrder };

const base = (o: WorkOrder) => ({ id: o.id, version: o.version });
const text = (v: string) => v.trim();

function Note({
  id,
  value,
  onInput,
  error,
  label,
}: {
  id: string;
  value: string;
  onInput: (v: string) => void;
  error?: string;
  label?: string;
}) {
  const t = useT();
  return (
    <Field label={label ?? t("form.note")} for={id} error={error}>
      <textarea id={id} maxLength={1000} value={value} onInput={(e) => onInput(e.currentTarget.value)} />
    </Field>
  );
}

export function DispatchDecision({ order, ...props }: DecisionProps) {
  const t = useT();
  const act = useOrderAction(props, "desk.dispatchTo");
  const [target, setTarget] = useState<Target>();
  const [complex, setComplex] = useState(order.complex);
  const [note, setNote] = useState("");
  const [missing, setMissing] = useState(false);

  function send() {
    setMissing(!target);
    if (!target) return;
    const request = { ...base(order), target, complex, note: text(note) };
    act.send(request, (requestId) => api.orders.dispatchWorkOrder({ ...request, requestId }));
  }

  return (
    <div class="decision" data-testid="dispatch-decision">
      <CandidatePicker
        orderId={order.id}
        value={target}
        onChange={setTarget}
        error={missing ? t("desk.pick") : fieldError(act.state, "target")}
      />
      <label class="choice">
        <input type="checkbox" checked={complex} onChange={(e) => setComplex(e.currentTarget.checked)} />
        <span>{t("desk.complex")}</span>
      </label>
      <Note id={`note-${order.id}`} value={note} onInput={setNote} error={fieldError(act.state, "note")} />
      <ActionStatus state={act.state} shown={["target", "note"]} onRetry={send} />
      <div class="decision-buttons">
        <Button busy={act.busy} onClick={send} data-testid="dispatch">
          {t("desk.dispatchTo")}
        </Button>
      </div>
    </div>
  );
}

export function ReturnDecision({ order, ...props }: DecisionProps) {
  const t = useT();
  const accept = useOrderAction(props, "desk.acceptReturn");
  const refuse = useOrderAction(props, "desk.refuseReturn");
  const [target, setTarget] = useState<Target>();
  const [note, setNote] = useState("");
  const [problem, setProblem] = useState<{ pick?: boolean; note?: boolean }>({});

  function reassign() {
    setProblem({ pick: !target });
    if (!target) return;
    const request = { ...base(order), decision: { case: "reassignTo" as const, value: target } };
    accept.send(request, (requestId) => api.orders.reviewReturn({ ...request, requestId }));
  }
  function keep() {
    setProblem({ note: !text(note) });
    if (!text(note)) return;
    const request = { ...base(order), decision: { case: "refuseNote" as const, value: text(note) } };
    refuse.send(request, (requestId) => api.orders.reviewReturn({ ...request, requestId }));
  }

  return (
    <div class="decision" data-testid="return-decision">
      <CandidatePicker
        orderId={order.id}
        value={target}
        onChange={setTarget}
        error={problem.pick ? t("desk.pick") : fieldError(accept.state, "reassign_to")}
      />
      <ActionStatus state={accept.state} shown={["reassign_to"]} onRetry={reassign} />
      <div class="decision-buttons">
        <Button busy={accept.busy} disabled={refuse.busy} onClick={reassign} data-testid="accept-return">
          {t("desk.acceptReturn")}
        </Button>
      </div>
      <Note
        id={`refuse-${order.id}`}
        value={note}
        onInput={setNote}
        error={problem.note ? t("form.required") : fieldError(refuse.state, "refuse_note")}
      />
      <ActionStatus state={refuse.state} shown={["refuse_note"]} onRetry={keep} />
      <div class="decision-buttons">
        <Button kind="danger" busy={refuse.busy} disabled={accept.busy} onClick={keep} data-testid="refuse-return">
          {t("desk.refuseReturn")}
        </Button>
      </div>
    </div>
  );
}

/** Two outcomes, the second needing a note when `noteRequired`: extensions and replies. */
function YesNo({
  order,
  yes,
  no,
  noteRequired,
  send,
  props,
  testid,
}: {
  order: WorkOrder;
  yes: "desk.approve" | "desk.pass";
  no: "desk.reject" | "desk.rejectReply";
  noteRequired: boolean;
  send: (
    request: { id: string; version: bigint; note: string; yes: boolean },
    requestId: string,
  ) => Promise<ActionResponse>;
  props: Pick<ActionProps, "onDone" | "onStale">;
  testid: string;
}) {
  const t = useT();
  const pass = useOrderAction(props, yes);
  const reject = useOrderAction(props, no);
  const [note, setNote] = useState("");
  const [missing, setMissing] = useState(false);

  function decide(ok: boolean) {
    const needs = !ok && noteRequired && !text(note);
    setMissing(needs);
    if (needs) return;
    const request = { ...base(order), note: text(note), yes: ok };
    (ok ? pass : reject).send(request, (requestId) => send(request, requestId));
  }

  const busy = pass.busy || reject.busy;
  return (
    <div class="decision" data-testid={testid}>
      <Note
        id={`note-${order.id}`}
        value={note}
        onInput={setNote}
        error={missing ? t("desk.noteRequired") : (fieldError(reject.state, "note") ?? fieldError(pass.state, "note"))}
      />
      <ActionStatus state={pass.state} shown={["note"]} onRetry={() => decide(true)} />
      <ActionStatus state={reject.state} shown={["note"]} onRetry={() => decide(false)} />
      <div class="decision-buttons">
        <Button busy={pass.busy} disabled={busy} onClick={() => decide(true)} data-testid="yes">
          {t(yes)}
        </Button>
        <Button kind="danger" busy={reject.busy} disabled={busy} onClick={() => decide(false)} data-testid="no">
          {t(no)}
        </Button>
      </div>
    </div>
  );
}

export function ExtensionDecision({ order, ...props }: DecisionProps) {
  return (
    <YesNo
      order={order}
      yes="desk.approve"
      no="desk.reject"
      noteRequired={false}
      props={props}
      testid="extension-decision"
      send={({ yes, ...r }, requestId) => api.orders.decideExtension({ ...r, approve: yes, requestId })}
    />
  );
}

export function ReplyDecision({ order, ...props }: DecisionProps) {
  return (
    <YesNo
      order={order}
      yes="desk.pass"
      no="desk.rejectReply"
      noteRequired
      props={props}
      testid="reply-decision"
      send={({ yes, ...r }, requestId) => api.orders.reviewReply({ ...r, pass: yes, requestId })}
    />
  );
}

export function RedoDecision({ order, ...props }: DecisionProps) {
  const t = useT();
  const previous = usePersonName(order.target?.assigneeId || undefined);
  const previousUnit = useUnitName(order.target && !order.target.assigneeId ? order.target.unitId : undefined);
  const act = useOrderAction(props, "desk.passOn");
  const [target, setTarget] = useState<Target>();
  const [note, setNote] = useState("");

  function send() {
    const request = { ...base(order), target, note: text(note) };
    act.send(request, (requestId) => api.orders.passOnRedo({ ...request, requestId }));
  }

  return (
    <div class="decision" data-testid="redo-decision">
      <CandidatePicker
        orderId={order.id}
        value={target}
        onChange={setTarget}
        keepLabel={`${t("desk.keepTarget")}${t("sep.colon")}${previous || previousUnit}`}
        error={fieldError(act.state, "target")}
      />
      <Note id={`note-${order.id}`} value={note} onInput={setNote} error={fieldError(act.state, "note")} />
      <ActionStatus state={act.state} shown={["target", "note"]} onRetry={send} />
      <div class="decision-buttons">
        <Button busy={act.busy} onClick={send} data-testid="pass-on">
          {t("desk.passOn")}
        </Button>
      </div>
    </div>
  );
}
