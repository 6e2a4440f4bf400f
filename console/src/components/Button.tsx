import type { ComponentChildren, JSX } from "preact";

type Props = Omit<JSX.ButtonHTMLAttributes<HTMLButtonElement>, "size"> & {
  kind?: "primary" | "secondary" | "danger" | "quiet";
  busy?: boolean;
  children: ComponentChildren;
};

/** A big button: a thumb's width on a phone, never a tiny link. */
export function Button({ kind = "primary", busy, disabled, children, class: cls, type, ...rest }: Props) {
  return (
    <button
      type={type ?? "button"}
      class={`btn btn-${kind}${cls ? ` ${cls}` : ""}`}
      disabled={disabled || busy}
      aria-busy={busy ? "true" : undefined}
      {...rest}
    >
      {children}
    </button>
  );
}
