// The counsel's connection drops while an action is on its way: the server applies it,
// the answer is lost, the console sends the same request (same request id) again, and
// the order's history has the event once. Then an order changed by someone else: the
// action is refused as stale and the console reloads the order and says so.
import { fromBinary } from "@bufbuild/protobuf";
import {
  ReplyWorkOrderRequestSchema,
  SignOffWorkOrderRequestSchema,
  WorkOrderState,
} from "../../src/gen/hotline/v1/work_order_pb.js";
import { createOrder, history, signIn } from "../api.mjs";

/** The request message of a gRPC-Web call's body (one frame: flag, length, message). */
function message(schema, body) {
  const length = body.readUInt32BE(1);
  return fromBinary(schema, body.subarray(5, 5 + length));
}

/**
 * Lets the first call of `method` reach the server, then cuts the connection before the
 * answer arrives; later calls pass. Returns the request ids seen, in order.
 */
async function loseFirstAnswer(page, method, schema) {
  const seen = [];
  await page.route(`**/hotline.v1.WorkOrderService/${method}`, async (route) => {
    seen.push(message(schema, route.request().postDataBuffer()).requestId);
    if (seen.length === 1) {
      await route.fetch(); // the server has it and answers ...
      await route.abort("connectionreset"); // ... but the answer never reaches the phone
    } else {
      await route.continue();
    }
  });
  return seen;
}

function count(events, kind) {
  return events.filter((e) => e.kind === kind).length;
}

/** A counsel's page that never hears of changes: only its own answers tell it what happened. */
function deaf(t) {
  return t.signedIn("counsel", {
    width: 360,
    height: 780,
    beforeSignIn: (p) => p.route("**/hotline.v1.WorkOrderService/WatchWorkOrders", (r) => r.abort("connectionreset")),
  });
}

export default async function retry(t) {
  const agent = await signIn(t.url, "agent");
  const order = await createOrder(agent);
  // Without the live watch, the order on screen changes only by the action's answer, so
  // the screen moving on proves the retry got it.
  const page = await deaf(t);
  await page.goto(`${t.url}/#/order/${order.id}`);
  await page.waitForSelector("[data-testid=sign-off]");

  // Sign-off: the first answer is lost.
  const signOffs = await loseFirstAnswer(page, "SignOffWorkOrder", SignOffWorkOrderRequestSchema);
  await page.click("[data-testid=sign-off]");
  await page.waitForSelector("[data-testid=open-reply]", { timeout: 20_000 });
  t.check((await page.textContent("[data-testid=notice]"))?.includes("签收"), "no notice that the sign-off was done");
  t.check(signOffs.length >= 2, `the sign-off was sent ${signOffs.length} time(s); expected a retry`);
  t.check(new Set(signOffs).size === 1 && signOffs[0], `the retry used another request id: ${signOffs.join(", ")}`);
  let events = await history(agent, order.id);
  t.check(
    count(events, "signed_off") === 1,
    `history has ${count(events, "signed_off")} signed_off events, expected 1`,
  );

  // Reply: the same, with a form.
  const replies = await loseFirstAnswer(page, "ReplyWorkOrder", ReplyWorkOrderRequestSchema);
  await page.click("[data-testid=open-reply]");
  await page.fill("#notes", "已联系来电人并解答，建议先与用人单位协商，协商不成申请劳动仲裁。");
  await page.click("[data-testid=submit-reply]");
  await page.waitForSelector("[data-testid=history] [data-kind=replied]", { timeout: 20_000 });
  t.check(replies.length >= 2 && new Set(replies).size === 1, `reply sent with ids ${replies.join(", ")}`);
  events = await history(agent, order.id);
  t.check(count(events, "replied") === 1, `history has ${count(events, "replied")} replied events, expected 1`);
  await t.shot(page, "counsel-retried.png");

  // Stale: someone else signs the order off first; the counsel's sign-off is refused and
  // the order is reloaded.
  const other = await createOrder(agent);
  const blind = await deaf(t);
  await blind.goto(`${t.url}/#/order/${other.id}`);
  await blind.waitForSelector("[data-testid=sign-off]");
  const counsel = await signIn(t.url, "counsel");
  await counsel.orders.signOffWorkOrder({ id: other.id, version: other.version, requestId: crypto.randomUUID() });
  await blind.click("[data-testid=sign-off]");
  await blind.waitForSelector("[data-testid=notice]");
  const notice = await blind.textContent("[data-testid=notice]");
  t.check(notice?.includes("工单已被他人更新，已重新载入"), `no stale notice (saw: ${notice})`);
  await blind.waitForSelector("[data-testid=open-reply]");
  const now = await agent.orders.getWorkOrder({ id: other.id });
  t.check(now.state === WorkOrderState.IN_PROGRESS, `order is in state ${now.state}`);
  t.check(count(await history(agent, other.id), "signed_off") === 1, "the stale sign-off was applied");
}
