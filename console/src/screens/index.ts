// Which screen each role starts on, and the screens some roles open by their route.
// A role without a row (the telephony account) sees a note that it has no console.
import type { FunctionComponent } from "preact";
import { Role } from "../gen/hotline/v1/common_pb.js";

type Screen = () => Promise<{ default: FunctionComponent }>;

const wall: Screen = () => import("./wall/Wall");
const admin: Screen = () => import("./admin/Admin");

export const HOME_SCREENS: Partial<Record<Role, Screen>> = {
  [Role.SEAT_AGENT]: () => import("./seat/Seat"),
  [Role.COUNSEL]: () => import("./counsel/Inbox"),
  [Role.STATION_LEAD]: () => import("./counsel/Inbox"),
  [Role.DISPATCHER]: () => import("./desks/DispatcherDesk"),
  [Role.CALLBACK_AGENT]: () => import("./desks/CallbackDesk"),
  [Role.COUNTY_MANAGER]: wall,
  [Role.CITY_ADMIN]: wall,
};

/** Screens opened by their route (#/wall, #/admin), by the roles that may. */
const ROUTED: Record<string, { roles: Role[]; screen: Screen }> = {
  wall: { roles: [Role.DISPATCHER, Role.STATION_LEAD, Role.COUNTY_MANAGER, Role.CITY_ADMIN], screen: wall },
  admin: { roles: [Role.CITY_ADMIN], screen: admin },
};

/** The routed screens the role may open beside its home, for the top bar's links. */
export function linksFor(role: Role): string[] {
  return Object.entries(ROUTED)
    .filter(([, r]) => r.roles.includes(role) && r.screen !== HOME_SCREENS[role])
    .map(([name]) => name);
}

/** The screen for the route's first segment if the role may open it, else the role's home. */
export function screenFor(role: Role, route: string[]): Screen | undefined {
  const routed = ROUTED[route[0] ?? ""];
  return routed?.roles.includes(role) ? routed.screen : HOME_SCREENS[role];
}
