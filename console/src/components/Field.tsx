import { Icon } from "./Icon";
import type { ComponentChildren } from "preact";

type Props = {
  label: string;
  /** The id of the control the label names. */
  for?: string;
  error?: string;
  hint?: string;
  children: ComponentChildren;
};

/** A labelled control with its error in words beside it (announced to screen readers). */
export function Field({ label, for: id, error, hint, children }: Props) {
  return (
    <div class={`field${error ? " field-invalid" : ""}`}>
      <label class="field-label" for={id}>
        {label}
      </label>
      {children}
      {hint && !error && <div class="field-hint">{hint}</div>}
      {error && (
        <div class="field-error" role="alert" data-field-error={id}>
          <Icon name="alert" />
          {error}
        </div>
      )}
    </div>
  );
}
