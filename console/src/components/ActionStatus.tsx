import { useEffect, useState } from "preact/hooks";
import type { ActionState } from "../action";
import { useT } from "../i18n";
import { Banner } from "./Banner";
import { Button } from "./Button";

/** The API's error on one field of the form (`result.notes`), if that is what failed. */
export function fieldError(state: ActionState, ...paths: string[]): string | undefined {
  if (state.phase !== "failed" || state.failure.kind !== "field") return undefined;
  const field = state.failure.field;
  return paths.some((p) => field === p || field.startsWith(`${p}.`) || field.startsWith(`${p}[`))
    ? state.failure.message
    : undefined;
}

function Countdown({ until }: { until: number }) {
  const t = useT();
  const [left, setLeft] = useState(Math.ceil((until - Date.now()) / 1000));
  useEffect(() => {
    const id = setInterval(() => setLeft(Math.ceil((until - Date.now()) / 1000)), 250);
    return () => clearInterval(id);
  }, [until]);
  return <>{t("err.wait", { s: Math.max(left, 0) })}</>;
}

/**
 * What became of an action, except errors on the fields the form shows beside them
 * (`shown`): retrying, waiting out a rate limit, or why it failed.
 */
export function ActionStatus({
  state,
  shown = [],
  onRetry,
}: {
  state: ActionState;
  shown?: string[];
  onRetry?: () => void;
}) {
  const t = useT();
  switch (state.phase) {
    case "retrying":
      return (
        <Banner tone="warn" testid="action-retrying">
          {t("err.network")}
        </Banner>
      );
    case "waiting":
      return (
        <Banner tone="warn">
          <Countdown until={state.until} />
        </Banner>
      );
    case "failed": {
      const f = state.failure;
      if (f.kind === "field" && fieldError(state, ...shown)) return null;
      if (f.kind === "stale") return null; // the screen reloads and says so
      const text =
        f.kind === "field"
          ? `${f.field}: ${f.message}`
          : f.kind === "network"
            ? t("err.networkGaveUp")
            : f.kind === "wait"
              ? t("err.wait", { s: Math.ceil(f.ms / 1000) })
              : f.kind === "signedOut"
                ? t("err.signedOut")
                : `${t(f.key)} · ${f.message}`;
      return (
        <Banner
          tone="error"
          testid="action-error"
          actions={
            onRetry && (f.kind === "network" || f.kind === "wait") ? (
              <Button kind="secondary" onClick={onRetry}>
                {t("app.retry")}
              </Button>
            ) : undefined
          }
        >
          {text}
        </Banner>
      );
    }
    default:
      return null;
  }
}
