import { Icon } from "./Icon";
import type { ComponentChildren } from "preact";

type Props = {
  tone: "info" | "success" | "warn" | "error";
  children: ComponentChildren;
  actions?: ComponentChildren;
  testid?: string;
};

const ICONS = { info: "info", success: "check", warn: "alert", error: "stop" } as const;

/** A line across the screen; status messages are announced politely, errors at once. */
export function Banner({ tone, children, actions, testid }: Props) {
  return (
    <div class={`banner banner-${tone}`} role={tone === "error" ? "alert" : "status"} data-testid={testid}>
      <span class="banner-icon">
        <Icon name={ICONS[tone]} />
      </span>
      <span class="banner-text">{children}</span>
      {actions && <span class="banner-actions">{actions}</span>}
    </div>
  );
}
