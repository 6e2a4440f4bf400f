import type { FunctionComponent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useT } from "../i18n";

/** A screen loaded on first use, so the sign-in page stays small. */
export function Lazy({ load }: { load: () => Promise<{ default: FunctionComponent }> }) {
  const t = useT();
  const [Screen, setScreen] = useState<FunctionComponent>();
  useEffect(() => {
    let live = true;
    load().then((m) => live && setScreen(() => m.default));
    return () => {
      live = false;
    };
  }, [load]);
  return Screen ? <Screen /> : <p class="loading">{t("app.loading")}</p>;
}
