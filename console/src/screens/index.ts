// Which screen each role starts on. A role without a row sees a note that its console
// is not open yet; new consoles (the seat console, the manager wall) add a row here.
import type { FunctionComponent } from "preact";
import { Role } from "../gen/hotline/v1/common_pb.js";

type Screen = () => Promise<{ default: FunctionComponent }>;

const wall: Screen = () => import("./wall/Wall");

export const HOME_SCREENS: Partial<Record<Role, Screen>> = {
  [Role.SEAT_AGENT]: () => import("./seat/Seat"),
  [Role.COUNTY_MANAGER]: wall,
  [Role.CITY_ADMIN]: wall,
};

/** Screens opened by their route (#/wall) by roles whose home is another screen. */
const ROUTED: Record<string, { roles: Role[]; screen: Screen }> = {
  wall: { roles: [Role.DISPATCHER, Role.STATION_LEAD, Role.COUNTY_MANAGER, Role.CITY_ADMIN], screen: wall },
};

/** The screen for the route's first segment if the role may open it, else the role's home. */
export function screenFor(role: Role, route: string[]): Screen | undefined {
  const routed = ROUTED[route[0] ?? ""];
  return routed?.roles.includes(role) ? routed.screen : HOME_SCREENS[role];
}
