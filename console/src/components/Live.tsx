import { useT } from "../i18n";
import type { WatchStatus } from "../watch";
import { Banner } from "./Banner";
import { Icon } from "./Icon";

/** Says so while the live watch is down (it reconnects by itself). */
export function ReconnectBanner({ status }: { status: WatchStatus }) {
  const t = useT();
  return status === "reconnecting" ? (
    <Banner tone="warn" testid="watch-status">
      {t("watch.reconnecting")}
    </Banner>
  ) : null;
}

export function LiveDot({ status }: { status: WatchStatus }) {
  const t = useT();
  return status === "live" ? (
    <span class="live" data-testid="watch-live">
      <Icon name="dot" /> {t("watch.live")}
    </span>
  ) : null;
}
