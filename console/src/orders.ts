// What the screens need to know about a work order beyond its fields: its cards, how
// urgent it is, the order of a list, and a request id per user intent.
import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import { Urgency } from "./gen/hotline/v1/common_pb.js";
import {
  CardKind,
  WorkOrderState,
  type Card,
  type WorkOrder,
  type WorkOrderEvent,
} from "./gen/hotline/v1/work_order_pb.js";

export { CardKind, WorkOrderState };

/** States in which an order still waits for someone. */
export const OPEN_STATES = [
  WorkOrderState.REGISTERED,
  WorkOrderState.AWAITING_SIGN_OFF,
  WorkOrderState.RETURN_UNDER_REVIEW,
  WorkOrderState.IN_PROGRESS,
  WorkOrderState.EXTENSION_UNDER_REVIEW,
  WorkOrderState.REPLY_UNDER_REVIEW,
  WorkOrderState.AWAITING_CALLBACK,
  WorkOrderState.REDO,
];

export function date(ts: Timestamp | undefined): Date | undefined {
  return ts ? timestampDate(ts) : undefined;
}

/** The cards an order carries now. Never shown by colour alone. */
export type Cards = { yellow?: Card; red?: Card; supervision?: Card };

/**
 * The cards, as the API gives them: the sweeper's marks that stand on the order now
 * (the yellow and red cards of the deadline it runs against, the county's supervision).
 * A red card supersedes the yellow one of the same deadline.
 */
export function cardsOf(order: WorkOrder): Cards {
  const given = (kind: CardKind) => order.cards.find((c) => c.kind === kind);
  const red = given(CardKind.RED);
  return { yellow: red ? undefined : given(CardKind.YELLOW), red, supervision: given(CardKind.SUPERVISION) };
}

export function payload(e: WorkOrderEvent): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(e.payloadJson || "{}");
    return value && typeof value === "object" ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The latest event of one of these kinds, e.g. the reason of the return under review. */
export function latest(events: readonly WorkOrderEvent[] | undefined, kind: string) {
  if (!events) return undefined;
  for (let i = events.length - 1; i >= 0; i--) if (events[i].kind === kind) return events[i];
  return undefined;
}

/**
 * A handler's order of work: awaiting sign-off first, then in progress by the time left
 * (the most overdue first), then orders waiting on someone else; urgent before normal on
 * a tie.
 */
export function byUrgency(a: WorkOrder, b: WorkOrder): number {
  const group = (o: WorkOrder) =>
    o.state === WorkOrderState.AWAITING_SIGN_OFF ? 0 : o.state === WorkOrderState.IN_PROGRESS ? 1 : 2;
  if (group(a) !== group(b)) return group(a) - group(b);
  return byDue(a, b);
}

/** The nearest deadline first (orders without one last), urgent first on a tie. */
export function byDue(a: WorkOrder, b: WorkOrder): number {
  const due = (o: WorkOrder) => date(o.currentDue)?.getTime() ?? Number.POSITIVE_INFINITY;
  if (due(a) !== due(b)) return due(a) < due(b) ? -1 : 1;
  const urgent = (o: WorkOrder) => (o.urgency === Urgency.URGENT ? 0 : 1);
  if (urgent(a) !== urgent(b)) return urgent(a) - urgent(b);
  return a.number.localeCompare(b.number);
}

/**
 * A request id for one intent of the user. The same request (every field but the id)
 * gets the same id until it succeeds, so a retry after a lost answer is applied once;
 * any change of the request makes a new intent, because the server refuses an id used
 * for another request.
 */
export class Intent {
  private current: { fingerprint: string; id: string } | null = null;

  idFor(request: object): string {
    const fingerprint = JSON.stringify(request, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
    if (!this.current || this.current.fingerprint !== fingerprint) {
      this.current = { fingerprint, id: newRequestId() };
    }
    return this.current.id;
  }

  done() {
    this.current = null;
  }
}

/** A random UUID; also where crypto.randomUUID is missing (a page not served over TLS). */
export function newRequestId(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
