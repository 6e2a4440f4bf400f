// The seat console is worked from the keyboard: Alt+<key> shortcuts on the whole page,
// a visible hint on every action, and focus that always has a home.
import type { ComponentChildren, JSX, Ref } from "preact";
import { useEffect, useRef } from "preact/hooks";

/**
 * A shortcut: "Alt+KeyR", "Alt+Digit1", "Alt+Enter", "Escape". Physical keys (`code`), so
 * that Option on a Mac and an IME composing Chinese do not change them.
 */
export type Shortcut = string;

function shortcutOf(e: KeyboardEvent): Shortcut {
  const mods = `${e.ctrlKey ? "Ctrl+" : ""}${e.altKey ? "Alt+" : ""}${e.shiftKey ? "Shift+" : ""}`;
  return mods + (e.code === "NumpadEnter" ? "Enter" : e.code);
}

/** Page-wide shortcuts while the component lives; a handler returning false lets the key through. */
export function useShortcuts(map: Record<Shortcut, (() => void | boolean) | undefined>) {
  const latest = useRef(map);
  latest.current = map;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.isComposing || e.defaultPrevented) return;
      const run = latest.current[shortcutOf(e)];
      if (run && run() !== false) {
        e.preventDefault();
        e.stopPropagation();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
}

/** The key's label as shown: "Alt+KeyR" -> "Alt+R", "Alt+Digit1" -> "Alt+1". */
export function keyLabel(shortcut: Shortcut): string {
  return shortcut
    .replace(/Key([A-Z])/, "$1")
    .replace(/Digit(\d)/, "$1")
    .replace("Escape", "Esc");
}

export function Kbd({ k }: { k: Shortcut }) {
  return <kbd class="kbd">{keyLabel(k)}</kbd>;
}

type KeyButtonProps = Omit<JSX.ButtonHTMLAttributes<HTMLButtonElement>, "size" | "disabled"> & {
  k?: Shortcut;
  kind?: "primary" | "secondary" | "danger" | "quiet";
  busy?: boolean;
  /** Refused, but kept focusable so that focus is not lost when it turns off. */
  off?: boolean;
  btnRef?: Ref<HTMLButtonElement>;
  children: ComponentChildren;
};

/** A button with its key shown on it; busy or off, it stays focusable and ignores presses. */
export function KeyButton({
  k,
  kind = "secondary",
  busy,
  off,
  btnRef,
  children,
  onClick,
  class: cls,
  ...rest
}: KeyButtonProps) {
  const inert = busy || off;
  return (
    <button
      ref={btnRef}
      type="button"
      class={`btn btn-${kind} key-btn${cls ? ` ${cls}` : ""}`}
      aria-disabled={inert ? "true" : undefined}
      aria-busy={busy ? "true" : undefined}
      aria-keyshortcuts={k ? keyLabel(k) : undefined}
      onClick={(e) => {
        if (inert)
          e.preventDefault(); // also keeps a busy submit button from submitting again
        else onClick?.(e);
      }}
      {...rest}
    >
      <span>{children}</span>
      {k && <Kbd k={k} />}
    </button>
  );
}

/**
 * Keeps focus on the page: whenever it falls to <body> (the focused element went away or
 * was disabled), it moves to `home()`; and when `view` changes (another screen state).
 */
export function useFocusHome(home: () => HTMLElement | null | undefined, view: unknown) {
  const latest = useRef(home);
  latest.current = home;
  const check = () => {
    const a = document.activeElement;
    if (!a || a === document.body || !a.isConnected) latest.current()?.focus();
  };
  useEffect(() => {
    const onFocusOut = () => setTimeout(check, 0);
    document.addEventListener("focusout", onFocusOut);
    // An element removed while focused fires no focusout in every browser: look now and then.
    const id = setInterval(check, 300);
    return () => {
      document.removeEventListener("focusout", onFocusOut);
      clearInterval(id);
    };
  }, []);
  useEffect(() => {
    setTimeout(check, 0);
  }, [view]);
}
