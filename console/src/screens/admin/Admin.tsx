// The city admin's Administration screen (desktop): users, the routing and time-limit
// policies, the holiday calendar; the calendar's warning above them all.
import type { FunctionComponent } from "preact";
import { api } from "../../api";
import { CalendarWarning } from "../../components/CalendarWarning";
import { Tabs } from "../../components/Tabs";
import { useT, type Key } from "../../i18n";
import { href, useRoute } from "../../router";
import { Holidays } from "./Holidays";
import { PolicyEditor } from "./PolicyEditor";
import { Users } from "./Users";
import "./admin.css";

const loadRouting = () => api.routing.getRoutingPolicy({});
const saveRouting = (toml: string) => api.routing.setRoutingPolicy({ toml });
const loadTimeLimits = () => api.timeLimits.getTimeLimitPolicy({});
const saveTimeLimits = (toml: string) => api.timeLimits.setTimeLimitPolicy({ toml });

type Tab = { id: string; label: Key; Screen: FunctionComponent<{ route: string[] }> };

const TABS: Tab[] = [
  { id: "users", label: "admin.users", Screen: Users },
  {
    id: "routing",
    label: "admin.routing",
    Screen: () => <PolicyEditor id="routing" intro="policy.routingIntro" load={loadRouting} save={saveRouting} />,
  },
  {
    id: "time-limits",
    label: "admin.timeLimits",
    Screen: () => (
      <PolicyEditor id="time-limits" intro="policy.timeLimitsIntro" load={loadTimeLimits} save={saveTimeLimits} />
    ),
  },
  { id: "holidays", label: "admin.holidays", Screen: Holidays },
];

export default function Admin() {
  const t = useT();
  const route = useRoute();
  const tab = (route[0] === "admin" && TABS.find((x) => x.id === route[1])) || TABS[0];
  return (
    <main class="screen admin">
      <CalendarWarning enterHref={(year) => href("admin", "holidays", String(year))} />
      <h1>{t("admin.title")}</h1>
      <Tabs base="admin" current={tab.id} tabs={TABS.map((x) => ({ id: x.id, label: t(x.label) }))} />
      <tab.Screen key={tab.id} route={route.slice(2)} />
    </main>
  );
}
