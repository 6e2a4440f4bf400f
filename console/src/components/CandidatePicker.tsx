import { useEffect, useState } from "preact/hooks";
import { api, failure, readFailureKey } from "../api";
import type { Candidate } from "../gen/hotline/v1/routing_pb.js";
import type { Target } from "../gen/hotline/v1/work_order_pb.js";
import { enumLabel, useT, type Key } from "../i18n";
import { Banner } from "./Banner";
import { Choices } from "./Choices";

const key = (t: Target | undefined) => (t ? `${t.unitId}/${t.assigneeId}` : "");

/**
 * The people (and the county centre) routing would try for an order, in its order, with
 * why each cannot take it now; the one routing would choose is picked to begin with.
 * `keep` adds a first choice "no change" (value undefined).
 */
export function CandidatePicker({
  orderId,
  value,
  onChange,
  keepLabel,
  error,
}: {
  orderId: string;
  value: Target | undefined;
  onChange: (target: Target | undefined) => void;
  keepLabel?: string;
  error?: string;
}) {
  const t = useT();
  const [candidates, setCandidates] = useState<Candidate[]>();
  const [loadError, setLoadError] = useState<Key>();

  useEffect(() => {
    let live = true;
    api.routing.suggestAssignees({ workOrderId: orderId }).then(
      (answer) => {
        if (!live) return;
        setCandidates(answer.candidates);
        if (!keepLabel && answer.route?.target) onChange(answer.route.target);
      },
      (err) => live && setLoadError(readFailureKey(failure(err))),
    );
    return () => {
      live = false;
    };
  }, [orderId]);

  if (loadError) return <Banner tone="error">{t(loadError)}</Banner>;
  if (!candidates) return <p class="muted">{t("desk.candidatesLoading")}</p>;
  const byKey = new Map(candidates.map((c) => [key(c.target), c.target]));
  const choices = candidates.map((c) => ({
    value: key(c.target),
    testid: `candidate-${c.target?.assigneeId || c.target?.unitId}`,
    label: (
      <span>
        <strong>{c.name}</strong> · {enumLabel(t, "step", c.step)}
        <span class="candidate-meta">
          {c.target?.assigneeId && <> · {t("desk.openOrders", { n: String(c.openOrders), cap: c.capacity })}</>}
          {c.unavailable > 0 && <> · {enumLabel(t, "unavailable", c.unavailable)}</>}
          {c.rank === 1 && <> · {t("desk.route")}</>}
        </span>
      </span>
    ),
  }));
  if (keepLabel) choices.unshift({ value: "", testid: "candidate-keep", label: <span>{keepLabel}</span> });
  return (
    <div class="field">
      <span class="field-label">{t("desk.suggested")}</span>
      <Choices
        name={`target-${orderId}`}
        value={key(value)}
        onChange={(k) => onChange(byKey.get(k))}
        choices={choices}
      />
      {error && (
        <div class="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}
