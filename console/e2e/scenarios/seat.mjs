// The seat console: the telephony layer (played from Node as `cti`) offers a call and the
// core picks the agent signed in to a seat in the browser; the screen pops with the number
// and the caller's earlier call; the agent types the summary, accepts the suggested
// category, creates an order with the assignee routing proposes, and goes back to ready
// after the call, all from the keyboard. An answer lost on the way back is retried with
// the same request id, and makes one order.
import { Code, ConnectError } from "@connectrpc/connect";
import { signIn } from "../api.mjs";
import { assert, shot, signedInPage } from "../page.mjs";
import { Category, Subcategory, Urgency } from "../../src/gen/hotline/v1/common_pb.js";
import { Presence } from "../../src/gen/hotline/v1/seats_pb.js";
import { WorkOrderState } from "../../src/gen/hotline/v1/work_order_pb.js";

const VILLAGE = "371502101001"; // 沙镇镇 前进村

/** Leaves an agent offline, ending whatever call the demo left them on. */
async function offline(client, cti) {
  let agent;
  try {
    agent = await client.seats.getAgent({});
  } catch (err) {
    if (ConnectError.from(err).code === Code.NotFound) return;
    throw err;
  }
  if (agent.callId && agent.ringing)
    await cti.telephony.callAbandoned({ callId: agent.callId, waitMs: 1000 }).catch(() => {});
  if (agent.presence === Presence.ON_CALL) await cti.telephony.callEnded({ callId: agent.callId });
  if (agent.presence !== Presence.OFFLINE) await client.seats.signOutSeat({});
}

async function waitUntil(what, check, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function run({ baseUrl, shots, browser }) {
  const [agent, agent2, cti, dispatcher] = await Promise.all(
    ["agent", "agent2", "cti", "dispatcher"].map((u) => signIn(baseUrl, u)),
  );
  // Only the browser's agent may be free, so that the core rings them.
  await offline(agent, cti);
  await offline(agent2, cti);

  // An earlier, confidential call of this caller, taken by another agent.
  const phone = `139${String(Date.now()).slice(-8)}`;
  await agent2.calls.recordCall({
    requestId: `e2e-seat-earlier-${phone}`,
    caller: { name: "王秀英", phone, confidential: true },
    villageId: VILLAGE,
    category: Category.MEDIATION,
    subcategory: Subcategory.NEIGHBOUR_DISPUTE,
    urgency: Urgency.NORMAL,
    summary: "邻居盖房占了我家的宅基地，想请村里调解",
  });

  const page = await signedInPage(browser, baseUrl, "agent");
  await page.waitForSelector('[data-testid="seat-sign-in"]');
  await page.fill("#seat-name", "E2E-01");
  await page.keyboard.press("Enter");
  await page.waitForSelector(`[data-testid="presence"][data-presence="${Presence.AVAILABLE}"]`);
  await shot(page, shots, "seat-console.png");

  // The call is offered; the core chooses the agent.
  const callId = `e2e-seat-${Date.now()}`;
  const offeredAt = Date.now();
  const offered = await cti.telephony.callOffered({ callId, callerPhone: phone, line: "12348-1" });
  assert(offered.assignedAgentId === agent.user.id, `the core rang ${offered.assignedAgentId}, not the agent`);
  await page.waitForSelector(
    `[data-testid="screen-pop"][data-call="${callId}"] [data-testid="pop-number"]:has-text("${phone}")`,
  );
  console.log(`  screen pop ${Date.now() - offeredAt} ms after CallOffered`);
  await page.waitForSelector('[data-testid="mark-repeat"]');
  await page.waitForSelector('[data-testid="mark-confidential"]');
  await cti.telephony.callAnswered({ callId, agentId: agent.user.id });
  await page.waitForSelector(`[data-testid="presence"][data-presence="${Presence.ON_CALL}"]`);

  // The cursor is in the summary; the agent types and accepts the suggestion.
  assert(
    await page.evaluate(() => document.activeElement?.getAttribute("data-testid") === "summary"),
    "the summary box does not have the focus when the call pops",
  );
  await page.keyboard.type("工地老板拖欠我三个月工资一万二千元，想问怎么讨要");
  const suggested = await waitUntil("a suggestion", async () => {
    const el = await page.$('[data-testid="suggested-category"]');
    return el && Number(await el.getAttribute("data-value"));
  });
  const suggestedSub = Number(await page.getAttribute('[data-testid="suggested-subcategory"]', "data-value"));
  await page.keyboard.press("Alt+Enter");
  await page.waitForSelector(`[data-testid="categories"] [data-value="${suggested}"][aria-checked="true"]`);
  assert(
    Number(await page.inputValue('[data-testid="subcategory"]')) === suggestedSub,
    "the suggested subcategory was not taken",
  );
  // The village: the caller's last one is filled in from the history.
  await page.waitForSelector('[data-testid="village-path"]:has-text("前进村")');
  await shot(page, shots, "seat-screen-pop.png");

  // 生成工单 with the assignee routing proposes.
  await page.keyboard.press("Alt+KeyG");
  await page.waitForSelector('[data-testid="assign-list"] [data-assignee]');
  assert(
    await page.evaluate(() => document.activeElement?.getAttribute("data-testid") === "assign-list"),
    "the assignee list does not have the focus",
  );
  await page.keyboard.press("ArrowDown");
  const chosen = await page.getAttribute('[data-testid="assign-list"] [aria-selected="true"]', "data-assignee");
  // The first answer to CreateWorkOrder is lost on the way back: the console sends the
  // same request (same request id) again, and one order is made.
  let lost = 0;
  await page.route("**/hotline.v1.WorkOrderService/CreateWorkOrder", async (route) => {
    if (lost++ > 0) return route.continue();
    await route.fetch();
    await route.abort("connectionreset");
  });
  await page.keyboard.press("Enter");
  const done = await page.waitForSelector('[data-testid="done"]');
  const number = /GD\d+/.exec(await done.innerText())?.[0];
  assert(number, "no order number shown");
  console.log(`  order ${number} created, sent to ${chosen}`);

  const order = await dispatcher.orders.getWorkOrder({ id: number });
  assert(order.state === WorkOrderState.AWAITING_SIGN_OFF, `order state ${order.state}`);
  assert(order.category === suggested && order.subcategory === suggestedSub, "order category is not the suggested one");
  assert(
    order.target?.assigneeId === chosen || order.target?.unitId === chosen,
    `order went to ${order.target?.assigneeId}`,
  );
  const queued = await agent.queue.getQueueCall({ id: callId });
  assert(lost === 2, `CreateWorkOrder was sent ${lost} times, not twice`);
  assert(
    queued.workOrderIds.length === 1 && queued.workOrderIds[0] === order.id,
    `the queue call lists ${queued.workOrderIds.length} orders, not the one order`,
  );

  // The caller hangs up; wrap-up; the agent is ready again with Alt+R.
  await cti.telephony.callEnded({ callId });
  await page.waitForSelector(`[data-testid="presence"][data-presence="${Presence.WRAP_UP}"]`);
  await page.keyboard.press("Alt+KeyR");
  await page.waitForSelector(`[data-testid="presence"][data-presence="${Presence.AVAILABLE}"]`);
  await waitUntil("the agent available on the server", async () => {
    return (await agent.seats.getAgent({})).presence === Presence.AVAILABLE;
  });
  await page.waitForSelector('[data-testid="seat-idle"]');
  await page.context().close();
}
