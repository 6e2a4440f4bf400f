// A counsel of another township (counsel3, 堂邑镇) sees nothing of an order sent to the
// counsel of 沙镇镇 前进村: not in the list, not live, not by its address; while an order
// sent to their own village arrives at once (so the silence is not a dead stream).
import { Code, ConnectError } from "@connectrpc/connect";
import { createOrder, DEMO, signIn } from "../api.mjs";

export default async function isolation(t) {
  const agent = await signIn(t.url, "agent");
  const counsel3 = await signIn(t.url, "counsel3");
  const theirs = await t.signedIn("counsel3", { width: 360, height: 780 });
  const mine = await t.signedIn("counsel", { width: 360, height: 780 });
  await theirs.waitForSelector("[data-testid=watch-live]");
  await mine.waitForSelector("[data-testid=watch-live]");

  const order = await createOrder(agent); // to 张明, 前进村
  await mine.waitForSelector(`[data-order="${order.number}"]`, { timeout: 15_000 });
  const own = await createOrder(agent, {
    village: DEMO.otherVillage,
    dispatchTo: { unitId: DEMO.otherVillage, assigneeId: "P0004" },
  });
  await theirs.waitForSelector(`[data-order="${own.number}"]`, { timeout: 15_000 });

  t.check((await theirs.$(`[data-order="${order.number}"]`)) === null, `counsel3 sees ${order.number}`);
  const banner = await theirs.textContent("[data-testid=new-order]");
  t.check(!banner?.includes(order.number), `counsel3 was told of ${order.number}`);
  await theirs.reload();
  await theirs.waitForSelector(`[data-order="${own.number}"]`);
  t.check((await theirs.$(`[data-order="${order.number}"]`)) === null, `counsel3 lists ${order.number} after a reload`);
  await t.shot(theirs, "isolation-counsel3.png");

  // By its address: refused, without saying whether it exists.
  await theirs.goto(`${t.url}/#/order/${order.id}`);
  await theirs.waitForSelector(".banner-error");
  t.check(
    (await theirs.textContent(".banner-error"))?.includes("未找到，或不在您的辖区"),
    "opening the order by its address did not say it is out of reach",
  );
  t.check((await theirs.textContent("body"))?.includes("13800138000") === false, "the caller's number leaked");

  // And the API says the same.
  const listed = await counsel3.orders.listWorkOrders({});
  t.check(!listed.workOrders.some((o) => o.id === order.id), "ListWorkOrders gives counsel3 the order");
  const refused = await counsel3.orders.getWorkOrder({ id: order.id }).then(
    () => null,
    (err) => ConnectError.from(err).code,
  );
  t.check(refused === Code.PermissionDenied, `GetWorkOrder for counsel3 answered ${refused}, not PERMISSION_DENIED`);
}
