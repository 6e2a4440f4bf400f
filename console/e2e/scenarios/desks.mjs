// The review desks: the dispatcher dispatches a registered order with the suggested
// assignee and passes the counsel's reply; the callback agent sees the caller's full
// number and records 满意; the order closes. A second order goes through a refused
// return, an approved extension, a dissatisfied callback and a redo passed on.
import { ReturnReason, Satisfaction, WorkOrderState } from "../../src/gen/hotline/v1/work_order_pb.js";
import { createOrder, history, signIn } from "../api.mjs";

const id = () => crypto.randomUUID();

export default async function desks(t) {
  const agent = await signIn(t.url, "agent");
  const counsel = await signIn(t.url, "counsel");
  const dispatcher = await t.signedIn("dispatcher", { width: 1366, height: 768 });
  const callback = await t.signedIn("callback", { width: 1366, height: 768 });
  await dispatcher.waitForSelector("[data-testid=watch-live]");
  await callback.waitForSelector("[data-testid=watch-live]");

  const row = (number) => `[data-order="${number}"]`;
  const inRow = (number, testid) => `li${row(number)} [data-testid=${testid}]`;

  // 待派发: a registered order arrives live; routing's choice is offered first.
  const order = await createOrder(agent, { registerOnly: true });
  await dispatcher.waitForSelector(row(order.number), { timeout: 15_000 });
  await dispatcher.waitForSelector(inRow(order.number, "candidate-P0001"));
  await t.shot(dispatcher, "desk-dispatch.png");
  await dispatcher.click(inRow(order.number, "candidate-P0001"));
  await dispatcher.click(inRow(order.number, "dispatch"));
  await dispatcher.waitForSelector(row(order.number), { state: "detached" });

  // The counsel signs off and replies (through the API).
  let o = await counsel.orders.getWorkOrder({ id: order.id });
  t.check(o.state === WorkOrderState.AWAITING_SIGN_OFF && o.target?.assigneeId === "P0001", "not dispatched to P0001");
  o = (await counsel.orders.signOffWorkOrder({ id: o.id, version: o.version, requestId: id() })).workOrder;
  o = (
    await counsel.orders.replyWorkOrder({
      id: o.id,
      version: o.version,
      requestId: id(),
      result: { resolved: true, notes: "已协助来电人向劳动监察大队投诉，工资已追回。", amountRecovered: "12000" },
    })
  ).workOrder;

  // 回复待审: pass.
  await dispatcher.click("[data-tab=replies]");
  await dispatcher.waitForSelector(row(order.number), { timeout: 15_000 });
  t.check((await dispatcher.textContent(row(order.number)))?.includes("12,000.00"), "the reply's amount is not shown");
  await t.shot(dispatcher, "desk-replies.png");
  await dispatcher.click(inRow(order.number, "yes"));
  await dispatcher.waitForSelector(row(order.number), { state: "detached" });

  // 待回访: the full number, and 满意.
  await callback.waitForSelector(row(order.number), { timeout: 15_000 });
  t.check(
    (await callback.textContent(row(order.number)))?.includes("13800138000"),
    "the callback desk does not show the full number",
  );
  t.check(
    (await callback.textContent(`${row(order.number)} [data-testid=due]`))?.includes("剩 1 个工作日"),
    "the callback desk does not show 剩 1 个工作日",
  );
  await t.shot(callback, "callback.png");
  // The row's detail reads the history when it is opened.
  await callback.click(inRow(order.number, "details"));
  await callback.waitForSelector(`li${row(order.number)} [data-testid=history] [data-kind=reply_passed]`, {
    timeout: 15_000,
  });
  await callback.click(inRow(order.number, `rate-${Satisfaction.SATISFIED}`));
  await callback.waitForSelector(row(order.number), { state: "detached" });

  o = await agent.orders.getWorkOrder({ id: order.id });
  t.check(o.state === WorkOrderState.CLOSED, `the order is in state ${o.state}, not closed`);
  const kinds = (await history(agent, order.id)).map((e) => e.kind);
  for (const kind of ["dispatched", "reply_passed", "callback_satisfied"]) {
    t.check(kinds.filter((k) => k === kind).length === 1, `history has ${kind} not exactly once: ${kinds.join(", ")}`);
  }

  // A second order: returned, the return refused (a note is required).
  const second = await createOrder(agent);
  let s = await counsel.orders.getWorkOrder({ id: second.id });
  s = (
    await counsel.orders.returnWorkOrder({
      id: s.id,
      version: s.version,
      requestId: id(),
      reason: ReturnReason.NOT_OUR_REMIT,
      note: "属于劳动仲裁委受理范围",
    })
  ).workOrder;
  await dispatcher.click("[data-tab=returns]");
  await dispatcher.waitForSelector(row(second.number), { timeout: 15_000 });
  t.check(
    (await dispatcher.textContent(row(second.number)))?.includes("不属受理范围"),
    "the return reason is not shown",
  );
  await dispatcher.click(inRow(second.number, "refuse-return"));
  await dispatcher.waitForSelector(`li${row(second.number)} .field-error`);
  await dispatcher.fill(`#refuse-${second.id}`, "劳动争议咨询属村居法律顾问服务范围，请签收办理");
  await dispatcher.click(inRow(second.number, "refuse-return"));
  await dispatcher.waitForSelector(row(second.number), { state: "detached" });

  // Signed off, an extension asked and approved.
  s = await counsel.orders.getWorkOrder({ id: second.id });
  t.check(s.state === WorkOrderState.AWAITING_SIGN_OFF, `after the refused return the order is in state ${s.state}`);
  s = (await counsel.orders.signOffWorkOrder({ id: s.id, version: s.version, requestId: id() })).workOrder;
  s = (
    await counsel.orders.requestExtension({
      id: s.id,
      version: s.version,
      requestId: id(),
      days: 3,
      reason: "需等待用人单位提供工资台账",
    })
  ).workOrder;
  await dispatcher.click("[data-tab=extensions]");
  await dispatcher.waitForSelector(row(second.number), { timeout: 15_000 });
  await t.shot(dispatcher, "desk-extensions.png");
  await dispatcher.click(inRow(second.number, "yes"));
  await dispatcher.waitForSelector(row(second.number), { state: "detached" });

  // Replied and passed; the caller is dissatisfied; the redo is passed on to the same counsel.
  s = await counsel.orders.getWorkOrder({ id: second.id });
  t.check(s.state === WorkOrderState.IN_PROGRESS && s.extensionCount === 1, "the extension was not approved");
  s = (
    await counsel.orders.replyWorkOrder({
      id: s.id,
      version: s.version,
      requestId: id(),
      result: { resolved: false, unresolvedReason: "用人单位拒不配合", notes: "已告知申请劳动仲裁的途径" },
    })
  ).workOrder;
  await dispatcher.click("[data-tab=replies]");
  await dispatcher.waitForSelector(row(second.number), { timeout: 15_000 });
  await dispatcher.click(inRow(second.number, "yes"));
  await callback.waitForSelector(row(second.number), { timeout: 15_000 });
  await callback.click(inRow(second.number, `rate-${Satisfaction.DISSATISFIED}`));
  await callback.waitForSelector(row(second.number), { state: "detached" });
  await dispatcher.click("[data-tab=redo]");
  await dispatcher.waitForSelector(inRow(second.number, "candidate-keep"), { timeout: 15_000 });
  await t.shot(dispatcher, "desk-redo.png");
  await dispatcher.click(inRow(second.number, "pass-on"));
  await dispatcher.waitForSelector(row(second.number), { state: "detached" });
  s = await counsel.orders.getWorkOrder({ id: second.id });
  t.check(
    s.state === WorkOrderState.AWAITING_SIGN_OFF && s.redoCount === 1,
    `after the redo: state ${s.state}, redo count ${s.redoCount}`,
  );
  t.check(s.target?.assigneeId === "P0001", "the redo did not go back to the same counsel");
}
