// The seat agent's console: sign in to a seat, presence, the queue, and a desk for each
// call rung at the seat (screen pop and intake) until it is recorded.
import { useEffect, useRef, useState } from "preact/hooks";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { api } from "../../api";
import { Banner } from "../../components/Banner";
import { Presence } from "../../gen/hotline/v1/seats_pb.js";
import { useT } from "../../i18n";
import { addDays, shanghaiDayStart } from "../../period";
import { useQueueWatch } from "../../queue";
import { useSession } from "../../session";
import { CallDesk, type Finished } from "./CallDesk";
import { KeyButton, useFocusHome, useShortcuts } from "./keys";
import { PresenceBar, type TodayFigures } from "./PresenceBar";
import { SeatSignIn } from "./SeatSignIn";
import { useAgent } from "./useAgent";
import "./seat.css";

/**
 * The agent's calls today: read once from the queue's calls (each read of a number in full
 * is audited, so not again after every call), then kept up as calls are taken here.
 */
function useToday(agentId: string) {
  const [sets, setSets] = useState<{ answered: Set<string>; recorded: Set<string>; orders: number }>();
  useEffect(() => {
    const now = new Date();
    const from = shanghaiDayStart(now);
    api.queue
      .listQueueCalls({ from: timestampFromDate(from), to: timestampFromDate(addDays(from, 1)), limit: 1000 })
      .then(({ calls }) => {
        const mine = calls.filter((c) => c.agentId === agentId);
        setSets({
          answered: new Set(mine.filter((c) => c.answeredAt).map((c) => c.id)),
          recorded: new Set(mine.filter((c) => c.intakeCallIds.length > 0).map((c) => c.id)),
          orders: mine.reduce((n, c) => n + c.workOrderIds.length, 0),
        });
      })
      .catch(() => {}); // the figures are a help; the bar leaves them out
  }, [agentId]);
  const figures: TodayFigures | undefined = sets && {
    answered: sets.answered.size,
    recorded: sets.recorded.size,
    orders: sets.orders,
  };
  return {
    figures,
    answered: (id: string) =>
      setSets((s) => (s && !s.answered.has(id) ? { ...s, answered: new Set(s.answered).add(id) } : s)),
    finished: (id: string) =>
      setSets((s) =>
        s && !s.recorded.has(id) ? { ...s, recorded: new Set(s.recorded).add(id), orders: s.orders + 1 } : s,
      ),
  };
}

export default function Seat() {
  const t = useT();
  const { user } = useSession();
  const me = useAgent();
  const queue = useQueueWatch(me.fromSnapshot);
  const today = useToday(user.id);
  const readyRef = useRef<HTMLButtonElement>(null);
  const [desks, setDesks] = useState<string[]>([]);
  const [finished, setFinished] = useState<ReadonlySet<string>>(new Set());
  const [chosen, setChosen] = useState<string>();
  const agent = me.state.kind === "known" ? me.state.agent : undefined;
  const callId = agent?.callId ?? "";

  // A call rung at this seat opens its desk; a recorded call's desk closes once the agent
  // has moved on from that call.
  useEffect(() => {
    setDesks((d) => {
      const kept = d.filter((id) => !finished.has(id) || id === callId);
      return callId && !kept.includes(callId) ? [...kept, callId] : kept;
    });
  }, [callId, finished]);

  const open = desks.filter((id) => !finished.has(id));
  const activeId =
    chosen && desks.includes(chosen) ? chosen : callId && desks.includes(callId) ? callId : open[open.length - 1];

  useFocusHome(() => {
    const homes = Array.from(document.querySelectorAll<HTMLElement>(".seat-main [data-home]"));
    return homes.find((h) => h.offsetParent !== null) ?? readyRef.current;
  }, `${agent?.presence}-${activeId}`);

  useShortcuts({
    "Alt+KeyP": open.length > 1 ? () => setChosen(open[(open.indexOf(activeId ?? "") + 1) % open.length]) : undefined,
  });

  function onFinished(f: Finished) {
    setFinished((s) => new Set(s).add(f.callId));
    today.finished(f.callId);
  }

  if (me.state.kind === "loading") return <p class="loading">{t("app.loading")}</p>;
  if (me.state.kind === "failed") {
    return (
      <main class="screen">
        <Banner tone="error" actions={<KeyButton onClick={me.refresh}>{t("app.retry")}</KeyButton>}>
          {t("err.unavailable")}
        </Banner>
      </main>
    );
  }
  if (!agent || agent.presence === Presence.OFFLINE) {
    return <SeatSignIn agent={agent} onSignedIn={me.set} />;
  }

  return (
    <div class="seat" data-testid="seat">
      <PresenceBar
        agent={agent}
        queue={queue}
        today={today.figures}
        onAgent={me.set}
        readyRef={readyRef}
        unfinished={open.length}
      />
      {queue.status === "reconnecting" && <Banner tone="warn">{t("seat.reconnecting")}</Banner>}
      {open.length > 1 && (
        <div class="seat-unfinished">
          {t("pop.unfinished", { n: open.length })}{" "}
          <KeyButton k="Alt+KeyP" onClick={() => setChosen(open[(open.indexOf(activeId ?? "") + 1) % open.length])}>
            {t("pop.switch")}
          </KeyButton>
        </div>
      )}
      <main class="seat-main">
        {desks.map((id) => (
          <CallDesk
            key={id}
            callId={id}
            agent={agent}
            active={id === activeId}
            readyRef={readyRef}
            onAnswered={today.answered}
            onFinished={onFinished}
          />
        ))}
        {!activeId && (
          <div class="seat-idle" data-testid="seat-idle">
            <p class="seat-idle-big">
              {agent.presence === Presence.BREAK
                ? t("seat.onBreak", { reason: agent.breakReason })
                : agent.presence === Presence.WRAP_UP
                  ? t("seat.wrapUpIdle")
                  : t("seat.idle")}
            </p>
            <p class="muted">{t("seat.idleHint")}</p>
          </div>
        )}
      </main>
    </div>
  );
}
