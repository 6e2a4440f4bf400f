// The API from Node, for setting scenarios up and checking what they did: the same
// generated code and gRPC-Web transport the console uses (Node 20 has fetch).
import { createClient } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuthService } from "../src/gen/hotline/v1/auth_pb.js";
import { CallService } from "../src/gen/hotline/v1/call_pb.js";
import { Category, Subcategory, Urgency } from "../src/gen/hotline/v1/common_pb.js";
import { QueueService, SeatService, TelephonyService } from "../src/gen/hotline/v1/seats_pb.js";
import { TimeLimitService } from "../src/gen/hotline/v1/time_limits_pb.js";
import { WorkOrderService } from "../src/gen/hotline/v1/work_order_pb.js";

export const PASSWORD = "hotline-demo-1";

/** Demo places (crates/hotline-server/src/demo.rs). */
export const DEMO = {
  // 沙镇镇 前进村, served by 张明 (P0001, user `counsel`).
  village: "371502101001",
  counsel: "P0001",
  // 堂邑镇, another township: 赵敏 (P0004, user `counsel3`).
  otherVillage: "371502102001",
};

/** Clients signed in as a demo user (or as another user, with its password). */
export async function signIn(baseUrl, username, password = PASSWORD) {
  let token = "";
  const transport = createGrpcWebTransport({
    baseUrl,
    useBinaryFormat: true,
    interceptors: [
      (next) => (req) => {
        if (token) req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      },
    ],
  });
  const auth = createClient(AuthService, transport);
  const answer = await auth.signIn({ username, password });
  token = answer.token;
  return {
    user: answer.user,
    auth,
    calls: createClient(CallService, transport),
    orders: createClient(WorkOrderService, transport),
    seats: createClient(SeatService, transport),
    telephony: createClient(TelephonyService, transport),
    queue: createClient(QueueService, transport),
    timeLimits: createClient(TimeLimitService, transport),
  };
}

let serial = 0;

/**
 * A seat agent records a call and makes an order of it, sent to the counsel of the demo
 * village (or to `dispatchTo`); with `registerOnly` it stays for the dispatcher.
 */
export async function createOrder(agent, { summary, village = DEMO.village, dispatchTo, registerOnly = false } = {}) {
  serial += 1;
  const call = await agent.calls.recordCall({
    requestId: `e2e-call-${Date.now()}-${serial}`,
    caller: { name: "刘建国", phone: "13800138000" },
    villageId: village,
    category: Category.CONSULTATION,
    subcategory: Subcategory.LABOUR_WAGES,
    urgency: Urgency.NORMAL,
    summary: summary ?? `工地老板拖欠三个月工资共一万二千元，问怎么讨要（${serial}）`,
  });
  return agent.orders.createWorkOrder({
    requestId: `e2e-order-${Date.now()}-${serial}`,
    callId: call.id,
    registerOnly,
    dispatchTo: registerOnly ? undefined : (dispatchTo ?? { unitId: village, assigneeId: DEMO.counsel }),
  });
}

export async function history(client, id) {
  return (await client.orders.getWorkOrderHistory({ id })).events;
}
