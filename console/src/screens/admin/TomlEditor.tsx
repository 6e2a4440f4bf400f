import type { Ref } from "preact";
import { useEffect, useRef } from "preact/hooks";

// Each line is LINE px high in the editor (admin.css sets the same), so the gutter and
// the band under a line the server refused sit beside the text.
const LINE = 21;
const PAD = 8;

/** A monospace editor of a TOML document, with line numbers and a marked line. */
export function TomlEditor({
  id,
  value,
  onInput,
  invalid,
  badLine,
  areaRef,
  describedBy,
}: {
  id: string;
  value: string;
  onInput: (text: string) => void;
  invalid?: boolean;
  /** The line the server's refusal names (1-based). */
  badLine?: number;
  areaRef?: Ref<HTMLTextAreaElement>;
  describedBy?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const count = value.split("\n").length;
  const bad = badLine && badLine <= count ? badLine : undefined;

  useEffect(() => {
    if (bad && box.current) box.current.scrollTop = Math.max(0, (bad - 1) * LINE - box.current.clientHeight / 3);
  }, [bad]);

  return (
    <div class={`toml${invalid ? " toml-invalid" : ""}`} ref={box}>
      <div class="toml-gutter" aria-hidden="true">
        {Array.from({ length: count }, (_, i) => (
          <div key={i} class={i + 1 === bad ? "toml-gutter-bad" : undefined}>
            {i + 1}
          </div>
        ))}
      </div>
      <div class="toml-text">
        {bad && <div class="toml-band" style={{ top: `${PAD + (bad - 1) * LINE}px` }} data-error-line={bad} />}
        <textarea
          id={id}
          ref={areaRef}
          value={value}
          wrap="off"
          spellcheck={false}
          autocomplete="off"
          autocapitalize="off"
          aria-invalid={invalid ? "true" : undefined}
          aria-describedby={describedBy}
          style={{ height: `${count * LINE + 2 * PAD + 18}px` }}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      </div>
    </div>
  );
}

/** Puts the caret on line `n` of the editor and selects it. */
export function selectLine(area: HTMLTextAreaElement, n: number) {
  const lines = area.value.split("\n");
  const start = lines.slice(0, n - 1).reduce((sum, l) => sum + l.length + 1, 0);
  area.focus();
  area.setSelectionRange(start, start + (lines[n - 1]?.length ?? 0));
}
