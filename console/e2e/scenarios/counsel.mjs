// A village counsel on a phone sees a new order arrive without reloading, signs it off
// and replies with the result; after a dropped connection the inbox says so, resumes,
// and shows what arrived meanwhile.
import { WorkOrderState } from "../../src/gen/hotline/v1/work_order_pb.js";
import { createOrder, signIn } from "../api.mjs";
import { startLink } from "../link.mjs";

export default async function counsel(t) {
  const agent = await signIn(t.url, "agent");
  // The phone reaches the server over a link the scenario can cut.
  const link = await startLink(t.url);
  t.cleanup(() => link.close());
  const page = await t.signedIn("counsel", {
    width: 360,
    height: 780,
    via: link.url,
    beforeSignIn: (p) => t.shot(p, "signin.png"),
  });
  await page.waitForSelector("[data-testid=watch-live]", { timeout: 15_000 });

  // The agent makes an order for the counsel's village: it appears live, with a banner.
  const order = await createOrder(agent);
  const row = `[data-order="${order.number}"]`;
  await page
    .waitForSelector(row, { timeout: 15_000 })
    .catch(() => t.fail(`order ${order.number} did not appear in the inbox without a reload`));
  const banner = await page.textContent("[data-testid=new-order]");
  t.check(banner?.includes(order.number), `no new-order banner naming ${order.number} (saw: ${banner})`);
  t.check((await page.textContent(row))?.includes("前进村"), "the row does not name the village 前进村");
  // Sign-off is due by the end of the next working day, whatever today is.
  t.check(
    (await page.textContent(`${row} [data-testid=due]`))?.includes("剩 1 个工作日"),
    "the row does not show 剩 1 个工作日",
  );
  await t.shot(page, "counsel-inbox.png");

  // Open it: the caller's words and the history; sign off.
  await page.click(row);
  await page.waitForSelector("[data-testid=history] [data-kind=dispatched]");
  t.check((await page.textContent(".order-detail"))?.includes("拖欠"), "the caller's words are not shown");
  await t.shot(page, "counsel-order.png");
  await page.click("[data-testid=sign-off]");
  await page.waitForSelector("[data-testid=open-reply]");
  await page.waitForSelector("[data-testid=history] [data-kind=signed_off]");
  // The reply limit, in working days as the API counts them.
  const signed = await agent.orders.getWorkOrder({ id: order.id });
  const due = await page.textContent(".order-detail [data-testid=due]");
  t.check(
    signed.workingDaysLeft !== undefined && due?.includes(`剩 ${signed.workingDaysLeft} 个工作日`),
    `the order shows "${due}", the API ${signed.workingDaysLeft} working days left`,
  );

  // Reply: the form says which field is wrong, in words beside it.
  await page.click("[data-testid=open-reply]");
  await page.click("[data-testid=submit-reply]");
  await page.waitForSelector("[data-field-error=notes]");
  await page.fill("#notes", "已电话联系来电人，告知可向劳动监察大队投诉并申请劳动仲裁，已协助准备材料。");
  await page.fill("#amount", "12.345");
  await page.click("[data-testid=submit-reply]");
  await page.waitForSelector("[data-field-error=amount]");
  await page.fill("#amount", "12000.5");
  await t.shot(page, "counsel-reply.png");
  await page.click("[data-testid=submit-reply]");
  await page.waitForSelector("[data-testid=notice]");
  await page.waitForSelector("[data-testid=history] [data-kind=replied]");

  const replied = await agent.orders.getWorkOrder({ id: order.id });
  t.check(
    replied.state === WorkOrderState.REPLY_UNDER_REVIEW,
    `order is in state ${replied.state}, not reply under review`,
  );
  t.check(replied.result?.amountRecovered === "12000.50", `amount recovered is ${replied.result?.amountRecovered}`);

  // Back to the list; the connection drops: the inbox says so, and catches up after.
  await page.click("[data-testid=back]");
  await page.waitForSelector("[data-testid=inbox]");
  link.cut();
  await page.waitForSelector("[data-testid=watch-status]", { timeout: 15_000 });
  t.check(
    (await page.textContent("[data-testid=watch-status]"))?.includes("连接已断开，正在重连"),
    "no reconnecting notice",
  );
  const missed = await createOrder(agent);
  await t.shot(page, "counsel-reconnecting.png");
  link.restore();
  await page.waitForSelector(`[data-order="${missed.number}"]`, { timeout: 45_000 });
  await page.waitForSelector("[data-testid=watch-status]", { state: "detached", timeout: 15_000 });
}
