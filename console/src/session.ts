import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { User } from "./api";

export type Session = { user: User; signOut: () => void };

export const SessionContext = createContext<Session | null>(null);

/** The signed-in user; only screens behind sign-in use it. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in screen");
  return session;
}
