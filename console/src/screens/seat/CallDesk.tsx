// One call at the seat: the screen pop beside the intake (summary, suggested category,
// place, urgency), then 当场答复办结 or 生成工单. Each request keeps its request id until it
// succeeds, and what succeeded is not sent again: a retry after a lost answer records the
// call once and makes one order.
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api } from "../../api";
import { useAction } from "../../action";
import { ActionStatus, fieldError } from "../../components/ActionStatus";
import { Banner } from "../../components/Banner";
import { personName, unitName } from "../../directory";
import type { Call, SuggestCategoryResponse } from "../../gen/hotline/v1/call_pb.js";
import { Category, Channel, Subcategory, Urgency } from "../../gen/hotline/v1/common_pb.js";
import { UnitLevel, type Unit } from "../../gen/hotline/v1/directory_pb.js";
import { Presence, type Agent } from "../../gen/hotline/v1/seats_pb.js";
import type { Target, WorkOrder } from "../../gen/hotline/v1/work_order_pb.js";
import { enumLabel, isYuan, useT } from "../../i18n";
import { AssigneeStep, type Choice } from "./AssigneeStep";
import { Kbd, KeyButton, useShortcuts } from "./keys";
import { PlacePicker, placeOf } from "./PlacePicker";
import { ScreenPop } from "./ScreenPop";
import { useCallInfo } from "./useCallInfo";

const CATEGORIES = [Category.CONSULTATION, Category.LEGAL_AID, Category.MEDIATION, Category.LEGAL_EDUCATION];
const SUBCATEGORIES = Array.from({ length: 11 }, (_, i) => (i + 1) as Subcategory);
const SUGGEST_DEBOUNCE_MS = 250;

export type Finished = { callId: string; order?: WorkOrder; closed: boolean };

type Step = "form" | "assign" | "done";
type Missing = Partial<
  Record<"village" | "summary" | "category" | "subcategory" | "answer" | "amount" | "phone", string>
>;

function useSuggestion(summary: string) {
  const [answer, setAnswer] = useState<SuggestCategoryResponse>();
  const seq = useRef(0);
  useEffect(() => {
    const text = summary.trim();
    if (!text) return setAnswer(undefined);
    const mine = ++seq.current;
    const id = setTimeout(() => {
      api.calls.suggestCategory({ summary: text.slice(0, 2000) }).then(
        (a) => mine === seq.current && setAnswer(a),
        () => {}, // a suggestion is a help, not a step: the agent classifies anyway
      );
    }, SUGGEST_DEBOUNCE_MS);
    return () => clearTimeout(id);
  }, [summary]);
  return answer;
}

async function targetName(target: Target | undefined): Promise<string> {
  if (!target) return "";
  return target.assigneeId ? personName(target.assigneeId) : unitName(target.unitId);
}

export function CallDesk({
  callId,
  agent,
  active,
  readyRef,
  onAnswered,
  onFinished,
}: {
  callId: string;
  agent: Agent;
  active: boolean;
  readyRef: { current: HTMLButtonElement | null };
  onAnswered: (callId: string) => void;
  onFinished: (f: Finished) => void;
}) {
  const t = useT();
  const info = useCallInfo(callId);
  const [name, setName] = useState("");
  const [anonymous, setAnonymous] = useState(false);
  const [confidential, setConfidential] = useState(false);
  const [place, setPlace] = useState<Unit[]>([]);
  const [placeFromHistory, setPlaceFromHistory] = useState(false);
  const [summary, setSummary] = useState("");
  const [category, setCategory] = useState<Category>(Category.UNSPECIFIED);
  const [subcategory, setSubcategory] = useState<Subcategory>(Subcategory.UNSPECIFIED);
  const [urgent, setUrgent] = useState(false);
  const [amount, setAmount] = useState("");
  const [answer, setAnswer] = useState("");
  const [complex, setComplex] = useState(false);
  const [missing, setMissing] = useState<Missing>({});
  const [step, setStep] = useState<Step>("form");
  const [recorded, setRecorded] = useState<Call>();
  const [registered, setRegistered] = useState<WorkOrder>(); // made for closing, not yet closed
  const [doneText, setDoneText] = useState("");
  const record = useAction();
  const create = useAction();
  const finish = useAction();
  const suggestion = useSuggestion(summary);
  const summaryBox = useRef<HTMLTextAreaElement>(null);
  const orderButton = useRef<HTMLButtonElement>(null);
  const busy = record.busy || create.busy || finish.busy;
  const locked = !!recorded;

  // The call's first moments: the cursor goes to the summary.
  useLayoutEffect(() => {
    if (active && step === "form") summaryBox.current?.focus();
  }, [active]);

  useEffect(() => {
    if (agent.callId === callId && agent.presence === Presence.ON_CALL) onAnswered(callId);
  }, [agent.callId, agent.presence]);

  // A call recorded before this page was opened (a reload mid-call): its record, locked.
  useEffect(() => {
    const c = info.call;
    if (!c || recorded || step !== "form") return;
    if (c.workOrderIds.length > 0) {
      setDoneText(t("done.already"));
      setStep("done");
      onFinished({ callId, closed: false });
    } else if (c.intakeCallIds.length > 0) {
      api.calls.getCall({ id: c.intakeCallIds[0] }).then(showRecorded, () => {});
    }
  }, [info.call]);

  function showRecorded(call: Call) {
    setRecorded(call);
    setName(call.caller?.name ?? "");
    setAnonymous(!!call.caller?.anonymous);
    setConfidential(!!call.caller?.confidential);
    setSummary(call.summary);
    setCategory(call.category);
    setSubcategory(call.subcategory);
    setUrgent(call.urgency === Urgency.URGENT);
    setAmount(call.amountInDispute);
    setAnswer(call.answer);
    if (call.place?.villageId) placeOf(call.place.villageId).then(setPlace, () => {});
  }

  // The caller's last village, from their latest call, until the agent picks one.
  useEffect(() => {
    const last = info.history?.calls.find((c) => c.telephonyCallId !== callId)?.place?.villageId;
    if (!last || place.length > 0) return;
    placeOf(last).then(
      (path) => {
        setPlace((p) => (p.length ? p : path));
        setPlaceFromHistory(true);
      },
      () => {},
    );
    const named = info.history?.calls.find((c) => c.caller?.name && !c.caller.name.includes("*"))?.caller?.name;
    if (named) setName((n) => n || named);
  }, [info.history]);

  const village =
    place.length && place[place.length - 1].level === UnitLevel.VILLAGE ? place[place.length - 1] : undefined;
  const phone = info.call?.callerPhone ?? "";
  const topCategory = suggestion?.categories[0];
  const topSubcategory = suggestion?.subcategories[0];

  function acceptSuggestion() {
    if (locked || !topCategory || !topSubcategory) return;
    setCategory(topCategory.category);
    setSubcategory(topSubcategory.subcategory);
    setMissing((m) => ({ ...m, category: undefined, subcategory: undefined }));
  }

  function check(needAnswer: boolean): boolean {
    if (locked) return needAnswer ? !!answer.trim() || fail({ answer: t("intake.answerRequired") }) : true;
    const m: Missing = {};
    if (!village) m.village = t("intake.villagePick");
    if (!summary.trim()) m.summary = t("intake.required");
    if (!category) m.category = t("intake.required");
    if (!subcategory) m.subcategory = t("intake.required");
    if (amount.trim() && !isYuan(amount)) m.amount = t("form.amountBad");
    if (!anonymous && !phone) m.phone = t("intake.required");
    if (needAnswer && !answer.trim()) m.answer = t("intake.answerRequired");
    return fail(m);
  }

  function fail(m: Missing): boolean {
    setMissing(m);
    const first = (["village", "summary", "category", "subcategory", "amount", "answer"] as const).find((k) => m[k]);
    if (!first) return true;
    const ids = {
      village: "intake-village",
      summary: "intake-summary",
      category: "intake-cat-1",
      subcategory: "intake-sub",
      amount: "intake-amount",
      answer: "intake-answer",
    };
    document.getElementById(`${ids[first]}-${callId}`)?.focus();
    return false;
  }

  async function ensureRecorded(): Promise<Call | undefined> {
    if (recorded) return recorded;
    const request = {
      telephonyCallId: callId,
      channel: Channel.PHONE,
      caller: { name: anonymous ? "" : name.trim(), phone: anonymous ? "" : phone, anonymous, confidential },
      villageId: village!.id,
      category,
      subcategory,
      urgency: urgent ? Urgency.URGENT : Urgency.NORMAL,
      summary: summary.trim(),
      answer: answer.trim(),
      amountInDispute: amount.trim(),
    };
    const call = (await record.run(request, (requestId) => api.calls.recordCall({ ...request, requestId }))).answer;
    if (call) setRecorded(call);
    return call;
  }

  async function done(order: WorkOrder, closed: boolean) {
    const who = closed ? "" : await targetName(order.target);
    setDoneText(closed ? t("done.closed", { number: order.number }) : t("done.ordered", { number: order.number, who }));
    setStep("done");
    onFinished({ callId, order, closed });
    setTimeout(() => readyRef.current?.focus(), 0);
  }

  async function closeNow() {
    if (busy || step !== "form" || !check(true)) return;
    const call = await ensureRecorded();
    if (!call) return;
    let order = registered;
    if (!order) {
      const req = { callId: call.id, registerOnly: true };
      order = (await create.run(req, (requestId) => api.orders.createWorkOrder({ ...req, requestId }))).answer;
      if (!order) return;
      setRegistered(order);
    }
    const req = { id: order.id, version: order.version, answer: answer.trim() };
    const closed = (await finish.run(req, (requestId) => api.orders.answerAndClose({ ...req, requestId }))).answer;
    if (closed?.workOrder) done(closed.workOrder, true);
  }

  function openAssign() {
    if (busy || step !== "form" || !check(false)) return;
    setStep("assign");
  }

  async function createOrder(choice: Choice) {
    if (busy) return;
    const call = await ensureRecorded();
    if (!call) return;
    if (registered) {
      // An order registered on the way to closing it: dispatch that one.
      const target = choice.target ?? (await routeTarget(registered));
      if (!target) return;
      const req = { id: registered.id, version: registered.version, target, complex };
      const a = (await finish.run(req, (requestId) => api.orders.dispatchWorkOrder({ ...req, requestId }))).answer;
      if (a?.workOrder) done(a.workOrder, false);
      return;
    }
    const req = { callId: call.id, dispatchTo: choice.target, complex };
    const order = (await create.run(req, (requestId) => api.orders.createWorkOrder({ ...req, requestId }))).answer;
    if (order) done(order, false);
  }

  async function routeTarget(order: WorkOrder): Promise<Target | undefined> {
    try {
      return (await api.routing.suggestAssignees({ workOrderId: order.id })).route?.target;
    } catch {
      return undefined;
    }
  }

  function backToForm() {
    setStep("form");
    setTimeout(() => orderButton.current?.focus(), 0);
  }

  const formKeys = active && step === "form";
  useShortcuts({
    "Alt+Digit1": formKeys && !locked ? () => setCategory(CATEGORIES[0]) : undefined,
    "Alt+Digit2": formKeys && !locked ? () => setCategory(CATEGORIES[1]) : undefined,
    "Alt+Digit3": formKeys && !locked ? () => setCategory(CATEGORIES[2]) : undefined,
    "Alt+Digit4": formKeys && !locked ? () => setCategory(CATEGORIES[3]) : undefined,
    "Alt+Enter": formKeys ? acceptSuggestion : undefined,
    "Alt+KeyU": active && step !== "done" && !locked ? () => setUrgent((u) => !u) : undefined,
    "Alt+KeyC": formKeys && !locked ? () => setConfidential((c) => !c) : undefined,
    "Alt+KeyN": formKeys && !locked ? () => setAnonymous((a) => !a) : undefined,
    "Alt+KeyS": formKeys ? () => summaryBox.current?.focus() : undefined,
    "Alt+KeyV": formKeys ? () => document.getElementById(`intake-village-${callId}`)?.focus() : undefined,
    "Alt+KeyA": formKeys ? () => void closeNow() : undefined,
    "Alt+KeyG": formKeys ? openAssign : undefined,
  });

  // Enter in a one-line box, or Ctrl+Enter in the summary, makes the order; Ctrl+Enter in
  // the answer answers and closes.
  function onFormKey(e: KeyboardEvent) {
    if (e.key !== "Enter" || e.altKey || e.shiftKey || e.defaultPrevented || e.isComposing) return;
    const el = e.target as HTMLElement;
    if (el.tagName === "TEXTAREA") {
      if (!e.ctrlKey) return;
      e.preventDefault();
      if (el.id === `intake-answer-${callId}`) closeNow();
      else openAssign();
    } else if (el.tagName === "INPUT" || el.tagName === "SELECT") {
      e.preventDefault();
      openAssign();
    }
  }

  const id = (what: string) => `intake-${what}-${callId}`;
  const err = (m: string | undefined, ...paths: string[]) => m ?? fieldError(record.state, ...paths);

  return (
    <div class="desk" data-testid="call-desk" data-call={callId} hidden={!active}>
      <ScreenPop agent={agent} callId={callId} info={info} />
      <section class="intake" aria-label={t("intake.summary")}>
        {step === "done" ? (
          <div class="intake-done" data-testid="done">
            <Banner tone="success">{doneText}</Banner>
            <p>
              {agent.presence === Presence.ON_CALL ? t("seat.readyAfterCall") : t("done.readyHint")}{" "}
              <Kbd k="Alt+KeyR" />
            </p>
          </div>
        ) : (
          <form class="intake-form" onKeyDown={onFormKey} onSubmit={(e) => e.preventDefault()} noValidate>
            {locked && <Banner tone="info">{t("intake.locked")}</Banner>}
            <fieldset class="intake-row" disabled={locked}>
              <div class={`field intake-name${err(undefined, "caller.name") ? " field-invalid" : ""}`}>
                <label class="field-label" for={id("name")}>
                  {t("intake.caller")} · {t("intake.name")}
                </label>
                <input
                  id={id("name")}
                  value={name}
                  maxLength={50}
                  disabled={anonymous}
                  autocomplete="off"
                  onInput={(e) => setName(e.currentTarget.value)}
                />
              </div>
              <label class="toggle">
                <input type="checkbox" checked={anonymous} onChange={(e) => setAnonymous(e.currentTarget.checked)} />
                {t("intake.anonymous")} <Kbd k="Alt+KeyN" />
              </label>
              <label class="toggle">
                <input
                  type="checkbox"
                  checked={confidential}
                  onChange={(e) => setConfidential(e.currentTarget.checked)}
                  data-testid="confidential"
                />
                <span aria-hidden="true">◈</span>
                {t("intake.confidential")} <Kbd k="Alt+KeyC" />
              </label>
            </fieldset>
            {(missing.phone || fieldError(record.state, "caller")) && (
              <div class="field-error" role="alert">
                ⚠ {t("pop.number")}: {missing.phone ?? fieldError(record.state, "caller")}
              </div>
            )}
            <div class={`field${err(missing.village, "village_id") ? " field-invalid" : ""}`}>
              <label class="field-label" for={id("village")}>
                {t("intake.village")} <Kbd k="Alt+KeyV" />
                {placeFromHistory && <span class="muted"> · {t("intake.villageFrom")}</span>}
              </label>
              <PlacePicker
                id={id("village")}
                value={place}
                disabled={locked}
                invalid={!!err(missing.village, "village_id")}
                onChange={(p) => {
                  setPlace(p);
                  setPlaceFromHistory(false);
                }}
              />
              {err(missing.village, "village_id") && (
                <div class="field-error" role="alert">
                  ⚠ {err(missing.village, "village_id")}
                </div>
              )}
            </div>
            <div class="intake-summary-row">
              <div class={`field intake-summary${err(missing.summary, "summary") ? " field-invalid" : ""}`}>
                <label class="field-label" for={id("summary")}>
                  {t("intake.summary")} <Kbd k="Alt+KeyS" />
                </label>
                <textarea
                  id={id("summary")}
                  ref={summaryBox}
                  rows={3}
                  maxLength={2000}
                  value={summary}
                  readOnly={locked}
                  onInput={(e) => setSummary(e.currentTarget.value)}
                  data-home
                  data-testid="summary"
                />
                {err(missing.summary, "summary") && (
                  <div class="field-error" role="alert">
                    ⚠ {err(missing.summary, "summary")}
                  </div>
                )}
              </div>
              <aside class="suggest" aria-live="polite" data-testid="suggestion">
                <h3>{t("intake.suggested")}</h3>
                {topCategory && topSubcategory ? (
                  <>
                    <p class="suggest-main">
                      <strong data-testid="suggested-category" data-value={topCategory.category}>
                        {enumLabel(t, "category", topCategory.category)}
                      </strong>{" "}
                      <span class="muted">{Math.round(topCategory.score * 100)}%</span>
                      {" / "}
                      <strong data-testid="suggested-subcategory" data-value={topSubcategory.subcategory}>
                        {enumLabel(t, "subcategory", topSubcategory.subcategory)}
                      </strong>{" "}
                      <span class="muted">{Math.round(topSubcategory.score * 100)}%</span>
                    </p>
                    {(topCategory.cueWords.length > 0 || topSubcategory.cueWords.length > 0) && (
                      <p class="suggest-cues">
                        {t("intake.cues", {
                          words: [...new Set([...topCategory.cueWords, ...topSubcategory.cueWords])].join("、"),
                        })}
                      </p>
                    )}
                    <ol class="suggest-more">
                      {suggestion!.subcategories.slice(1, 3).map((s) => (
                        <li key={s.subcategory}>
                          {enumLabel(t, "subcategory", s.subcategory)}{" "}
                          <span class="muted">{Math.round(s.score * 100)}%</span>
                          {s.cueWords.length > 0 && <span class="muted"> · {s.cueWords.join("、")}</span>}
                        </li>
                      ))}
                    </ol>
                    <KeyButton k="Alt+Enter" off={locked} onClick={acceptSuggestion} data-testid="accept-suggestion">
                      {t("intake.accept")}
                    </KeyButton>
                  </>
                ) : (
                  <p class="muted">{t("intake.suggestNone")}</p>
                )}
              </aside>
            </div>
            <div class={`field${err(missing.category, "category") ? " field-invalid" : ""}`}>
              <span class="field-label" id={id("cat-label")}>
                {t("intake.category")}
              </span>
              <div class="cat-choices" role="radiogroup" aria-labelledby={id("cat-label")} data-testid="categories">
                {CATEGORIES.map((c, i) => (
                  <button
                    key={c}
                    type="button"
                    id={id(`cat-${i + 1}`)}
                    role="radio"
                    aria-checked={category === c ? "true" : "false"}
                    aria-disabled={locked ? "true" : undefined}
                    class={`cat-choice${category === c ? " cat-current" : ""}${topCategory?.category === c ? " cat-suggested" : ""}`}
                    onClick={() => !locked && setCategory(c)}
                    data-value={c}
                  >
                    {category === c && <span aria-hidden="true">✓ </span>}
                    {enumLabel(t, "category", c)}
                    <Kbd k={`Alt+Digit${i + 1}`} />
                  </button>
                ))}
              </div>
              {err(missing.category, "category") && (
                <div class="field-error" role="alert">
                  ⚠ {err(missing.category, "category")}
                </div>
              )}
            </div>
            <fieldset class="intake-row" disabled={locked}>
              <div class={`field${err(missing.subcategory, "subcategory") ? " field-invalid" : ""}`}>
                <label class="field-label" for={id("sub")}>
                  {t("intake.subcategory")}
                </label>
                <select
                  id={id("sub")}
                  value={subcategory}
                  onChange={(e) => setSubcategory(Number(e.currentTarget.value) as Subcategory)}
                  data-testid="subcategory"
                >
                  <option value={0}>—</option>
                  {SUBCATEGORIES.map((s) => (
                    <option key={s} value={s}>
                      {enumLabel(t, "subcategory", s)}
                    </option>
                  ))}
                </select>
                {err(missing.subcategory, "subcategory") && (
                  <div class="field-error" role="alert">
                    ⚠ {err(missing.subcategory, "subcategory")}
                  </div>
                )}
              </div>
              <label class={`toggle toggle-urgent${urgent ? " toggle-on" : ""}`}>
                <input
                  type="checkbox"
                  checked={urgent}
                  onChange={(e) => setUrgent(e.currentTarget.checked)}
                  data-testid="urgent"
                />
                <span aria-hidden="true">⚡</span>
                {t("intake.urgent")} <Kbd k="Alt+KeyU" />
              </label>
              <div class={`field intake-amount${err(missing.amount, "amount_in_dispute") ? " field-invalid" : ""}`}>
                <label class="field-label" for={id("amount")}>
                  {t("intake.amount")}
                </label>
                <input
                  id={id("amount")}
                  inputMode="decimal"
                  value={amount}
                  onInput={(e) => setAmount(e.currentTarget.value)}
                />
                {err(missing.amount, "amount_in_dispute") && (
                  <div class="field-error" role="alert">
                    ⚠ {err(missing.amount, "amount_in_dispute")}
                  </div>
                )}
              </div>
            </fieldset>
            <div class={`field${missing.answer || fieldError(finish.state, "answer") ? " field-invalid" : ""}`}>
              <label class="field-label" for={id("answer")}>
                {t("intake.answer")} <span class="muted">· {t("intake.answerHint")}</span>
              </label>
              <textarea
                id={id("answer")}
                rows={2}
                maxLength={4000}
                value={answer}
                onInput={(e) => setAnswer(e.currentTarget.value)}
                data-testid="answer"
              />
              {(missing.answer || fieldError(finish.state, "answer")) && (
                <div class="field-error" role="alert">
                  ⚠ {missing.answer ?? fieldError(finish.state, "answer")}
                </div>
              )}
            </div>
            <ActionStatus
              state={record.state}
              shown={["caller", "village_id", "summary", "category", "subcategory", "amount_in_dispute"]}
              onRetry={step === "form" ? closeNow : undefined}
            />
            <ActionStatus state={create.state} />
            <ActionStatus state={finish.state} shown={["answer"]} />
            {step === "form" && (
              <div class="intake-actions">
                <KeyButton kind="secondary" k="Alt+KeyA" busy={busy} onClick={closeNow} data-testid="close-now">
                  {t("intake.closeNow")}
                </KeyButton>
                <KeyButton
                  kind="primary"
                  k="Alt+KeyG"
                  busy={busy}
                  onClick={openAssign}
                  btnRef={orderButton}
                  data-testid="make-order"
                >
                  {t("intake.makeOrder")}
                </KeyButton>
              </div>
            )}
          </form>
        )}
        {step === "assign" && village && (
          <AssigneeStep
            matter={{ villageId: village.id, category, subcategory, amountInDispute: amount.trim() }}
            busy={busy}
            complex={complex}
            onComplex={setComplex}
            onChoose={createOrder}
            onBack={backToForm}
          >
            <label class={`toggle toggle-urgent${urgent ? " toggle-on" : ""}`}>
              <input
                type="checkbox"
                checked={urgent}
                disabled={locked}
                onChange={(e) => setUrgent(e.currentTarget.checked)}
              />
              <span aria-hidden="true">⚡</span>
              {t("intake.urgent")} <Kbd k="Alt+KeyU" />
            </label>
          </AssigneeStep>
        )}
      </section>
    </div>
  );
}
