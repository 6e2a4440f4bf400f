import type { ComponentChildren } from "preact";
import type { WorkOrder, WorkOrderEvent } from "../gen/hotline/v1/work_order_pb.js";
import { useUnitName, usePersonName } from "../directory";
import { enumLabel, formatDateTime, formatYuan, useT, type Key, type T } from "../i18n";
import { date, payload, WorkOrderState } from "../orders";
import { CardBadges, DueText, StateBadge } from "./Badges";
import { Icon } from "./Icon";

function Fact({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

/** A phone number to dial when the reader sees it in full. */
export function Phone({ phone }: { phone: string }) {
  if (!phone) return null;
  return phone.includes("*") ? (
    <span class="phone">{phone}</span>
  ) : (
    <a class="phone" href={`tel:${phone}`}>
      {phone}
    </a>
  );
}

function Caller({ order }: { order: WorkOrder }) {
  const t = useT();
  const c = order.caller;
  if (!c) return null;
  if (c.confidential && !c.name && !c.phone) return <span>{t("order.callerConfidential")}</span>;
  return (
    <span>
      {c.anonymous ? t("order.callerAnonymous") : c.name} <Phone phone={c.phone} />
      {c.confidential && <span class="muted"> · {t("order.callerConfidential")}</span>}
    </span>
  );
}

const RETURN_REASONS: Record<string, number> = { wrong_locality: 1, not_our_remit: 2, duplicate: 3 };
const SATISFACTION: Record<string, number> = { satisfied: 1, basically_satisfied: 2, dissatisfied: 3 };

/** What an event's payload says to a person, in a line. */
function eventDetail(t: T, e: WorkOrderEvent): string {
  const p = payload(e);
  const parts: string[] = [];
  const text = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);
  if (typeof p.reason === "string" && p.reason in RETURN_REASONS) {
    parts.push(enumLabel(t, "returnReason", RETURN_REASONS[p.reason]));
  } else if (text(p.reason)) {
    parts.push(text(p.reason)!);
  }
  if (typeof p.days === "number") parts.push(t("order.pendingExtension", { n: p.days }));
  if (typeof p.satisfaction === "string" && p.satisfaction in SATISFACTION) {
    parts.push(enumLabel(t, "satisfaction", SATISFACTION[p.satisfaction]));
  }
  const result = p.result as Record<string, unknown> | undefined;
  if (result && typeof result === "object" && text(result.notes)) parts.push(text(result.notes)!);
  for (const key of ["note", "answer"]) if (text(p[key])) parts.push(text(p[key])!);
  return parts.join(" · ");
}

export function History({ events }: { events: readonly WorkOrderEvent[] | undefined }) {
  const t = useT();
  if (!events) return <p class="muted">{t("app.loading")}</p>;
  return (
    <ol class="history" data-testid="history">
      {events.map((e) => {
        const at = date(e.at);
        const label = `event.${e.kind}` as Key;
        const detail = eventDetail(t, e);
        return (
          <li key={String(e.id)} class={`history-event event-${e.kind}`} data-kind={e.kind}>
            <span class="history-at">{at ? formatDateTime(t, at) : ""}</span>
            <span class="history-what">
              {t(label)} <span class="muted">· {enumLabel(t, "role", e.actorRole)}</span>
            </span>
            {detail && <span class="history-detail">{detail}</span>}
          </li>
        );
      })}
    </ol>
  );
}

/** Everything about an order a handler or a reviewer needs to decide. */
export function OrderDetail({ order, events }: { order: WorkOrder; events: readonly WorkOrderEvent[] | undefined }) {
  const t = useT();
  const village = useUnitName(order.place?.villageId);
  const township = useUnitName(order.place?.townshipId);
  const assignee = usePersonName(order.target?.assigneeId || undefined);
  const unit = useUnitName(order.target && !order.target.assigneeId ? order.target.unitId : undefined);
  const created = date(order.createdAt);
  const result = order.result;
  const contacted = date(result?.contactedAt);
  const returned = order.state === WorkOrderState.RETURN_UNDER_REVIEW;
  return (
    <div class="order-detail" data-order={order.number}>
      <div class="order-head">
        <span class="order-number">{order.number}</span>
        <StateBadge state={order.state} />
        <CardBadges order={order} />
      </div>
      <dl class="facts">
        <Fact label={t("order.village")}>
          {township} {village}
        </Fact>
        <Fact label={t("order.category")}>
          {enumLabel(t, "category", order.category)} / {enumLabel(t, "subcategory", order.subcategory)}
          {order.complex && <span class="muted"> · {t("order.complex")}</span>}
        </Fact>
        <Fact label={t("order.deadline")}>
          <DueText order={order} long />
        </Fact>
        <Fact label={t("order.caller")}>
          <Caller order={order} />
        </Fact>
        {(assignee || unit) && <Fact label={t("order.assignee")}>{assignee || unit}</Fact>}
        {created && <Fact label={t("order.created")}>{formatDateTime(t, created)}</Fact>}
        {order.amountInDispute && (
          <Fact label={t("order.amountInDispute")}>{formatYuan(t, order.amountInDispute)}</Fact>
        )}
        {order.redoCount > 0 && <Fact label={t("desk.redo")}>{t("order.redoCount", { n: order.redoCount })}</Fact>}
        {returned && order.pendingReturnReason > 0 && (
          <Fact label={t("order.pendingReturn")}>{enumLabel(t, "returnReason", order.pendingReturnReason)}</Fact>
        )}
        {order.state === WorkOrderState.EXTENSION_UNDER_REVIEW && order.pendingExtensionDays > 0 && (
          <Fact label={t("action.extension")}>{t("order.pendingExtension", { n: order.pendingExtensionDays })}</Fact>
        )}
      </dl>
      <section>
        <h3>{t("order.words")}</h3>
        <p class="words">{order.description}</p>
      </section>
      {order.agentAnswer && (
        <section>
          <h3>{t("order.answer")}</h3>
          <p class="words">{order.agentAnswer}</p>
        </section>
      )}
      {result && result.notes && (
        <section class="result">
          <h3>{t("order.result")}</h3>
          <p>
            <strong>
              <Icon name={result.resolved ? "check" : "cross"} />{" "}
              {result.resolved ? t("order.resolved") : t("order.unresolved")}
            </strong>
            {!result.resolved && result.unresolvedReason && <> · {result.unresolvedReason}</>}
          </p>
          <p class="words">{result.notes}</p>
          {contacted && (
            <p class="muted">
              {t("order.contactedAt")}: {formatDateTime(t, contacted)}
            </p>
          )}
          {result.amountRecovered && (
            <p>
              {t("order.amountRecovered")}: {formatYuan(t, result.amountRecovered)}
            </p>
          )}
        </section>
      )}
      <section>
        <h3>{t("order.history")}</h3>
        <History events={events} />
      </section>
    </div>
  );
}
