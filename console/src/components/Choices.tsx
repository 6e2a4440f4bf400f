import type { ComponentChildren } from "preact";

export type Choice<V extends string | number> = { value: V; label: ComponentChildren; testid?: string };

/** A radio group drawn as big tappable rows. */
export function Choices<V extends string | number>({
  name,
  choices,
  value,
  onChange,
  inline,
  invalid,
}: {
  name: string;
  choices: Choice<V>[];
  value: V | undefined;
  onChange: (value: V) => void;
  inline?: boolean;
  invalid?: boolean;
}) {
  return (
    <div
      class={`choices${inline ? " inline" : ""}`}
      role="radiogroup"
      id={name}
      aria-invalid={invalid ? "true" : undefined}
    >
      {choices.map((c) => (
        <label
          key={String(c.value)}
          class={`choice${c.value === value ? " choice-current" : ""}`}
          data-testid={c.testid}
        >
          <input type="radio" name={name} checked={c.value === value} onChange={() => onChange(c.value)} />
          <span>{c.label}</span>
        </label>
      ))}
    </div>
  );
}
