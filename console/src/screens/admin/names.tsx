// Who set a policy or a holiday year: the API gives a user id; the city admin's screen
// names it from the list of users (read once per page, again after a user is added).
import type { Timestamp } from "@bufbuild/protobuf/wkt";
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api";
import { formatDateTime, useT } from "../../i18n";
import { date } from "../../orders";

let names: Promise<Map<string, string>> | undefined;

async function loadNames(): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  let pageToken = "";
  do {
    const page = await api.auth.listUsers({ page: { pageSize: 500, pageToken } });
    for (const u of page.users) map.set(u.id, u.displayName ? `${u.displayName} (${u.username})` : u.username);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return map;
}

/** The users changed: names are read again when next needed. */
export function forgetUserNames() {
  names = undefined;
}

export function useUserName(id: string): string {
  const [name, setName] = useState(id);
  useEffect(() => {
    if (!id) return;
    let live = true;
    names ??= loadNames().catch((err) => {
      names = undefined;
      throw err;
    });
    names.then(
      (map) => live && setName(map.get(id) ?? id),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [id]);
  return name;
}

/** "Set by 市局管理员 (admin) on 2026-12-06 周日 09:30", or that it is the built-in setting. */
export function SetBy({ by, at }: { by: string; at: Timestamp | undefined }) {
  const t = useT();
  const who = useUserName(by);
  const when = date(at);
  return (
    <span class="set-by muted" data-testid="set-by">
      {by && when ? t("admin.setBy", { who, at: formatDateTime(t, when) }) : t("admin.builtIn")}
    </span>
  );
}
