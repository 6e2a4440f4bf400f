// Which screen each role starts on. A role without a row sees a note that its console
// is not open yet; new consoles (the seat console, the manager wall) add a row here.
import type { FunctionComponent } from "preact";
import { Role } from "../gen/hotline/v1/common_pb.js";

type Screen = () => Promise<{ default: FunctionComponent }>;

export const HOME_SCREENS: Partial<Record<Role, Screen>> = {
  [Role.COUNSEL]: () => import("./counsel/Inbox"),
  [Role.STATION_LEAD]: () => import("./counsel/Inbox"),
  [Role.DISPATCHER]: () => import("./desks/DispatcherDesk"),
  [Role.CALLBACK_AGENT]: () => import("./desks/CallbackDesk"),
  [Role.CITY_ADMIN]: () => import("./admin/Admin"),
};
