import { useEffect, useState } from "preact/hooks";
import type { ActionResponse, WorkOrder } from "../../gen/hotline/v1/work_order_pb.js";
import { readFailureKey } from "../../api";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { Icon } from "../../components/Icon";
import { OrderDetail } from "../../components/OrderDetail";
import { useT, type Key } from "../../i18n";
import { WorkOrderState } from "../../orders";
import { href } from "../../router";
import { useOrder } from "../../useOrder";
import { ExtensionForm, ReplyForm, ReturnForm, SignOffButton } from "./actions";

type Form = "return" | "extension" | "reply" | undefined;

/**
 * One order: its detail and the handler's actions its state allows. `knownVersion` is
 * the version the live watch has seen; a newer one reloads the order.
 */
export function OrderView({
  id,
  knownVersion,
  onChanged,
}: {
  id: string;
  knownVersion?: bigint;
  onChanged: (order: WorkOrder) => void;
}) {
  const t = useT();
  const { order, events, error, reload } = useOrder(id);
  const [form, setForm] = useState<Form>();
  const [notice, setNotice] = useState<{ tone: "success" | "warn"; text: string }>();

  useEffect(() => {
    if (order && knownVersion !== undefined && knownVersion > order.version) reload();
  }, [knownVersion]);

  /** After an action: show the order as it now stands. */
  function done(answer: ActionResponse, what: Key) {
    if (answer.workOrder) onChanged(answer.workOrder);
    setForm(undefined);
    setNotice({ tone: "success", text: t("action.done", { what: t(what) }) });
    reload();
  }

  /** ABORTED: someone else changed the order; show it afresh and say so. */
  function stale() {
    setForm(undefined);
    setNotice({ tone: "warn", text: t("err.aborted") });
    reload();
  }

  const back = (
    <a class="btn btn-quiet back" href={href()} data-testid="back">
      <Icon name="back" /> {t("app.back")}
    </a>
  );
  if (error && !order) {
    return (
      <>
        {back}
        <Banner tone="error">{t(readFailureKey(error))}</Banner>
      </>
    );
  }
  if (!order) return <p class="loading">{t("app.loading")}</p>;

  const signOff = order.state === WorkOrderState.AWAITING_SIGN_OFF;
  const working = order.state === WorkOrderState.IN_PROGRESS;
  const props = { order, onDone: done, onStale: stale, onCancel: () => setForm(undefined) };
  return (
    <div class="order-view">
      {back}
      {notice && (
        <Banner tone={notice.tone} testid="notice">
          {notice.text}
        </Banner>
      )}
      <div class="actions" data-testid="actions">
        {signOff && !form && (
          <>
            <SignOffButton {...props} />
            <Button kind="secondary" onClick={() => setForm("return")} data-testid="open-return">
              {t("action.return")}
            </Button>
          </>
        )}
        {working && !form && (
          <>
            <Button onClick={() => setForm("reply")} data-testid="open-reply">
              {t("action.reply")}
            </Button>
            <Button kind="secondary" onClick={() => setForm("extension")} data-testid="open-extension">
              {t("action.extension")}
            </Button>
          </>
        )}
        {!signOff && !working && <p class="muted">{t("order.notAllowed")}</p>}
      </div>
      {form === "return" && <ReturnForm {...props} />}
      {form === "extension" && <ExtensionForm {...props} />}
      {form === "reply" && <ReplyForm {...props} />}
      <OrderDetail order={order} events={events} />
    </div>
  );
}
