// Names of units and people, read once per page from the directory and kept.
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";

const units = new Map<string, Promise<string>>();
const people = new Map<string, Promise<string>>();

function cached(map: Map<string, Promise<string>>, id: string, load: () => Promise<string>) {
  let name = map.get(id);
  if (!name) {
    name = load().catch(() => {
      map.delete(id); // try again next time
      return id;
    });
    map.set(id, name);
  }
  return name;
}

export function unitName(id: string): Promise<string> {
  return cached(units, id, async () => (await api.directory.getUnit({ id })).name);
}

export function personName(id: string): Promise<string> {
  return cached(people, id, async () => (await api.directory.getPerson({ id })).name);
}

function useName(load: (id: string) => Promise<string>, id: string | undefined): string {
  const [name, setName] = useState(id ?? "");
  useEffect(() => {
    if (!id) return setName("");
    let live = true;
    setName(id);
    load(id).then((n) => live && setName(n));
    return () => {
      live = false;
    };
  }, [id]);
  return name;
}

export const useUnitName = (id: string | undefined) => useName(unitName, id);
export const usePersonName = (id: string | undefined) => useName(personName, id);
