// 生成工单: the assignees routing proposes for the place and matter, chosen with ↑↓ and
// Enter (the first row lets routing decide at creation); Esc goes back to the form.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { api, failure, type Failure } from "../../api";
import { Banner } from "../../components/Banner";
import type { Category, Subcategory } from "../../gen/hotline/v1/common_pb.js";
import type { Candidate, SuggestAssigneesResponse } from "../../gen/hotline/v1/routing_pb.js";
import type { Target } from "../../gen/hotline/v1/work_order_pb.js";
import { enumLabel, useT } from "../../i18n";
import { KeyButton, useShortcuts } from "./keys";

export type Choice = { target?: Target; name: string };

export type Matter = {
  villageId: string;
  category: Category;
  subcategory: Subcategory;
  amountInDispute: string;
};

function candidateName(c: Candidate, t: ReturnType<typeof useT>): string {
  return `${c.name} · ${enumLabel(t, "step", c.step)}`;
}

export function AssigneeStep({
  matter,
  busy,
  complex,
  onComplex,
  onChoose,
  onBack,
  children,
}: {
  matter: Matter;
  busy: boolean;
  complex: boolean;
  onComplex: (v: boolean) => void;
  onChoose: (c: Choice) => void;
  onBack: () => void;
  children?: ComponentChildren;
}) {
  const t = useT();
  const [answer, setAnswer] = useState<SuggestAssigneesResponse>();
  const [error, setError] = useState<Failure>();
  const [active, setActive] = useState(0);
  const list = useRef<HTMLUListElement>(null);

  useEffect(() => {
    let live = true;
    api.routing.suggestAssignees(matter).then(
      (a) => {
        if (!live) return;
        setAnswer(a);
        // Start on the candidate routing itself would take.
        const route = a.route?.target;
        const i = a.candidates.findIndex(
          (c) => c.rank > 0 && c.target?.unitId === route?.unitId && c.target?.assigneeId === route?.assigneeId,
        );
        setActive(i >= 0 ? i + 1 : 0);
      },
      (err) => live && setError(failure(err)),
    );
    list.current?.focus();
    return () => {
      live = false;
    };
  }, [matter.villageId, matter.category, matter.subcategory, matter.amountInDispute]);

  const candidates = answer?.candidates ?? [];
  const routeName = (() => {
    const r = answer?.route?.target;
    const c = candidates.find((x) => x.target?.unitId === r?.unitId && x.target?.assigneeId === r?.assigneeId);
    return c ? candidateName(c, t) : "";
  })();
  // Row 0 is "let routing decide"; rows 1.. are the candidates, the unavailable not choosable.
  const choosable = (i: number) => i === 0 || (candidates[i - 1]?.rank ?? 0) > 0;

  function move(step: number) {
    const rows = candidates.length + 1;
    let i = active;
    for (let n = 0; n < rows; n++) {
      i = (i + step + rows) % rows;
      if (choosable(i)) break;
    }
    setActive(i);
  }

  function choose(i = active) {
    if (busy || !choosable(i)) return;
    if (i === 0) onChoose({ name: routeName || t("assign.auto") });
    else onChoose({ target: candidates[i - 1].target, name: candidates[i - 1].name });
  }

  useShortcuts({
    Escape: busy ? undefined : onBack,
    "Alt+KeyK": () => onComplex(!complex),
  });

  function onKeyDown(e: KeyboardEvent) {
    if (e.key === "ArrowDown") move(1);
    else if (e.key === "ArrowUp") move(-1);
    else if (e.key === "Enter" && !e.altKey && !e.ctrlKey) choose();
    else return;
    e.preventDefault();
    e.stopPropagation();
  }

  return (
    <section class="assign" aria-labelledby="assign-title" data-testid="assign">
      <header class="assign-head">
        <h3 id="assign-title">{t("assign.title")}</h3>
        <span class="muted">
          {"↑↓ · "}
          {t("key.enter")} {t("assign.create")} · {t("key.esc")} {t("assign.back")}
        </span>
      </header>
      {error && <Banner tone="warn">{t("assign.none")}</Banner>}
      <ul
        class="assign-list"
        role="listbox"
        tabIndex={0}
        ref={list}
        aria-label={t("assign.title")}
        aria-activedescendant={`assign-${active}`}
        onKeyDown={onKeyDown}
        data-home
        data-testid="assign-list"
      >
        <li
          id="assign-0"
          role="option"
          aria-selected={active === 0 ? "true" : "false"}
          class={`assign-row${active === 0 ? " assign-active" : ""}`}
          onClick={() => {
            setActive(0);
            choose(0);
          }}
        >
          <strong>{t("assign.auto")}</strong>
          <span class="muted">
            {answer ? (routeName ? t("assign.autoTo", { name: routeName }) : "") : t("assign.loading")}
          </span>
        </li>
        {candidates.map((c, n) => {
          const i = n + 1;
          const off = c.rank === 0;
          return (
            <li
              key={`${c.target?.unitId}-${c.target?.assigneeId}`}
              id={`assign-${i}`}
              role="option"
              aria-selected={active === i ? "true" : "false"}
              aria-disabled={off ? "true" : undefined}
              class={`assign-row${active === i ? " assign-active" : ""}${off ? " assign-off" : ""}`}
              data-assignee={c.target?.assigneeId || c.target?.unitId}
              onClick={() => {
                if (off) return;
                setActive(i);
                choose(i);
              }}
            >
              <strong>
                {c.rank > 0 ? `${c.rank}. ` : "— "}
                {candidateName(c, t)}
              </strong>
              <span class="muted">
                {c.target?.assigneeId ? t("assign.open", { n: String(c.openOrders), cap: c.capacity }) : ""}
                {off && ` · ${enumLabel(t, "unavailable", c.unavailable)}`}
              </span>
            </li>
          );
        })}
      </ul>
      <div class="assign-actions">
        {children}
        <label class="toggle">
          <input type="checkbox" checked={complex} onChange={(e) => onComplex(e.currentTarget.checked)} />
          {t("assign.complex")} <kbd class="kbd">Alt+K</kbd>
        </label>
        <KeyButton kind="primary" k="Enter" busy={busy} onClick={() => choose()} data-testid="assign-create">
          {t("assign.create")}
        </KeyButton>
        <KeyButton k="Escape" off={busy} onClick={onBack}>
          {t("assign.back")}
        </KeyButton>
      </div>
    </section>
  );
}
