import type { ComponentChildren } from "preact";
import type { User } from "../api";
import { enumLabel, useI18n } from "../i18n";
import { Button } from "./Button";

/** The bar on every screen: the title, who is signed in, the language switch, sign-out. */
export function TopBar({
  user,
  onSignOut,
  children,
}: {
  user?: User;
  onSignOut?: () => void;
  children?: ComponentChildren;
}) {
  const { t, lang, setLang } = useI18n();
  return (
    <header class="topbar">
      <span class="topbar-title">
        <span class="logo" aria-hidden="true">
          12348
        </span>
        <span class="topbar-name">{t("app.title")}</span>
      </span>
      {children}
      <span class="topbar-end">
        {user && (
          <span class="topbar-user" data-testid="user">
            {user.displayName}
            <span class="muted"> · {enumLabel(t, "role", user.role)}</span>
          </span>
        )}
        <Button kind="quiet" onClick={() => setLang(lang === "zh" ? "en" : "zh")} data-testid="lang">
          {t("app.lang")}
        </Button>
        {onSignOut && (
          <Button kind="quiet" onClick={onSignOut} data-testid="sign-out">
            {t("app.signOut")}
          </Button>
        )}
      </span>
    </header>
  );
}
