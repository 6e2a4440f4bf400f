// The API as the console sees it: one gRPC-Web transport to the page's own origin, a
// client per service, the session token, and what an error means for the screen.
import { Code, ConnectError, createClient, type Client, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import type { DescService } from "@bufbuild/protobuf";
import { AuthService, type User } from "./gen/hotline/v1/auth_pb.js";
import { WorkOrderService } from "./gen/hotline/v1/work_order_pb.js";
import { DirectoryService } from "./gen/hotline/v1/directory_pb.js";
import { RoutingService } from "./gen/hotline/v1/routing_pb.js";
import { CallService } from "./gen/hotline/v1/call_pb.js";
import { QueueService, SeatService } from "./gen/hotline/v1/seats_pb.js";
import { StatisticsService } from "./gen/hotline/v1/statistics_pb.js";
import { TimeLimitService } from "./gen/hotline/v1/time_limits_pb.js";
import type { Key } from "./i18n";

const TOKEN_KEY = "hotline.token";

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onSignedOut: () => void = () => {};

/** What the app does when the server no longer takes the token: back to sign-in. */
export function whenSignedOut(handler: () => void) {
  onSignedOut = handler;
}

/** The server no longer takes the token (expired, revoked): drop it, back to sign-in. */
export function endSession() {
  if (!token()) return;
  setToken(null);
  onSignedOut();
}

// Every call but SignIn carries the token; an UNAUTHENTICATED answer ends the session
// (a stream's, which may come later than its start, is handled where it is read).
const auth: Interceptor = (next) => async (req) => {
  const value = token();
  if (value) req.header.set("authorization", `Bearer ${value}`);
  try {
    return await next(req);
  } catch (err) {
    if (ConnectError.from(err).code === Code.Unauthenticated && req.method.name !== "SignIn") endSession();
    throw err;
  }
};

const transport = createGrpcWebTransport({
  baseUrl: location.origin,
  useBinaryFormat: true,
  interceptors: [auth],
});

const clients = new Map<DescService, unknown>();
function client<S extends DescService>(service: S): Client<S> {
  let c = clients.get(service) as Client<S> | undefined;
  if (!c) {
    c = createClient(service, transport);
    clients.set(service, c);
  }
  return c;
}

export const api = {
  auth: client(AuthService),
  orders: client(WorkOrderService),
  directory: client(DirectoryService),
  routing: client(RoutingService),
  calls: client(CallService),
  seats: client(SeatService),
  queue: client(QueueService),
  statistics: client(StatisticsService),
  timeLimits: client(TimeLimitService),
};

export type { User };

/** The kinds of failure a screen tells apart. */
export type Failure =
  | { kind: "field"; field: string; message: string } // INVALID_ARGUMENT naming a field
  | { kind: "network" } // nothing came back: retry the same request
  | { kind: "wait"; ms: number } // RESOURCE_EXHAUSTED: retry the same request after ms
  | { kind: "stale" } // ABORTED: reload and decide again
  | { kind: "signedOut" }
  | { kind: "other"; code: Code; message: string; key: Key };

export function failure(err: unknown): Failure {
  const e = ConnectError.from(err);
  switch (e.code) {
    case Code.InvalidArgument: {
      // The server's message starts with the field's path: "result.notes: is required".
      const m = /^([A-Za-z_][\w.[\]]*): (.*)$/s.exec(e.rawMessage);
      return m
        ? { kind: "field", field: m[1], message: m[2] }
        : { kind: "other", code: e.code, message: e.rawMessage, key: "err.internal" };
    }
    case Code.ResourceExhausted:
      return { kind: "wait", ms: retryDelay(e) };
    case Code.Aborted:
      return { kind: "stale" };
    case Code.Unauthenticated:
      return { kind: "signedOut" };
    case Code.Unavailable:
    case Code.DeadlineExceeded:
    case Code.Unknown:
    case Code.Canceled:
      // A fetch that failed (network down, connection reset) surfaces as one of these,
      // and so does a server that cannot reach its database: both are retried.
      return { kind: "network" };
    case Code.PermissionDenied:
      return { kind: "other", code: e.code, message: e.rawMessage, key: "err.denied" };
    case Code.NotFound:
      return { kind: "other", code: e.code, message: e.rawMessage, key: "err.notFound" };
    case Code.FailedPrecondition:
      return { kind: "other", code: e.code, message: e.rawMessage, key: "err.state" };
    default:
      return { kind: "other", code: e.code, message: e.rawMessage, key: "err.internal" };
  }
}

/**
 * What a failed read means in words. A reader without city-wide reach is refused alike
 * for an order outside their jurisdiction and one that does not exist.
 */
export function readFailureKey(f: Failure): Key {
  if (f.kind === "other") {
    return f.code === Code.PermissionDenied || f.code === Code.NotFound ? "err.notFound" : f.key;
  }
  return f.kind === "signedOut" ? "err.signedOut" : "err.networkGaveUp";
}

/** The wait a rate or capacity refusal asks for: the message's exact delay, else `retry-after`. */
function retryDelay(e: ConnectError): number {
  const ms = /retry after (\d+) ms/.exec(e.rawMessage);
  if (ms) return Number(ms[1]);
  const secs = Number(e.metadata.get("retry-after"));
  return Number.isFinite(secs) && secs > 0 ? secs * 1000 : 1000;
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const id = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(id);
      resolve();
    });
  });
