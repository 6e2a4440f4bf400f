// Hash routes (#/order/GD2026…, #/desk/returns), so the server serves one index.html
// and a reload keeps the screen.
import { useEffect, useState } from "preact/hooks";

function current(): string[] {
  return location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () =>
      setRoute((was) => {
        const now = current();
        return now.join("/") === was.join("/") ? was : now;
      });
    window.addEventListener("hashchange", update);
    // Effects run after the first paint: a change of the hash in between is read now.
    update();
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}

export function navigate(...segments: string[]) {
  location.hash = "/" + segments.map(encodeURIComponent).join("/");
}

export function href(...segments: string[]): string {
  return "#/" + segments.map(encodeURIComponent).join("/");
}
