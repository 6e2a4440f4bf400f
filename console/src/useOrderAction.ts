// An action on one order at the version the screen shows: the shared path of every
// action button and form.
import { useAction } from "./action";
import type { ActionResponse, WorkOrder } from "./gen/hotline/v1/work_order_pb.js";
import type { Key } from "./i18n";

export type ActionProps = {
  order: WorkOrder;
  /** The action succeeded (also when a retry found it already done). */
  onDone: (answer: ActionResponse, what: Key) => void;
  /** ABORTED: someone else changed the order first. */
  onStale: () => void;
  onCancel: () => void;
};

export function useOrderAction(props: Pick<ActionProps, "onDone" | "onStale">, what: Key) {
  const action = useAction();

  /** `request` is every field but the request id; `call` sends it with the id. */
  async function send(request: object, call: (requestId: string) => Promise<ActionResponse>) {
    const outcome = await action.run(request, call);
    if (outcome.answer) props.onDone(outcome.answer, what);
    else if (outcome.failure?.kind === "stale") props.onStale();
  }

  return { ...action, send };
}
