// The signed-in agent's own seat state. The server pushes it in every WatchQueue message
// (`QueueSnapshot.agent`) once the agent has signed in to a seat; until a message carries
// it, it is read with GetAgent whenever the queue changes, and every few seconds besides.
import { useEffect, useRef, useState } from "preact/hooks";
import { Code, ConnectError } from "@connectrpc/connect";
import { api } from "../../api";
import type { Agent, QueueSnapshot } from "../../gen/hotline/v1/seats_pb.js";

export type AgentState =
  | { kind: "loading" }
  | { kind: "none" } // never signed in to a seat
  | { kind: "failed" }
  | { kind: "known"; agent: Agent };

const POLL_MS = 1500;

export function useAgent() {
  const [state, setState] = useState<AgentState>({ kind: "loading" });
  const pushed = useRef(false);
  const seq = useRef(0);

  async function refresh() {
    const mine = ++seq.current;
    try {
      const agent = await api.seats.getAgent({});
      if (mine === seq.current) setState({ kind: "known", agent });
    } catch (err) {
      if (mine !== seq.current) return;
      if (ConnectError.from(err).code === Code.NotFound) setState({ kind: "none" });
      else setState((s) => (s.kind === "loading" ? { kind: "failed" } : s));
    }
  }

  /** An answer of SeatService (sign-in, presence) or a pushed state: the newest wins. */
  function set(agent: Agent) {
    seq.current++;
    setState({ kind: "known", agent });
  }

  function fromSnapshot(s: QueueSnapshot) {
    if (s.agent) {
      pushed.current = true;
      set(s.agent);
    } else {
      refresh();
    }
  }

  useEffect(() => {
    refresh();
    const id = setInterval(() => {
      if (!pushed.current) refresh();
    }, POLL_MS);
    return () => clearInterval(id);
  }, []);

  return { state, refresh, set, fromSnapshot };
}
