// Plain SVG charts: bars by category, columns by day, a gauge against a target. Text is
// part of the drawing, so it scales with the chart and stays readable from afar.
import type { Level } from "./targets";

export type Bar = { key: string; label: string; value: number };

/** Horizontal bars with their labels and values. */
export function BarList({ bars, title }: { bars: Bar[]; title: string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const row = 34;
  const labelW = 110;
  const barW = 250;
  return (
    <svg class="chart" viewBox={`0 0 ${labelW + barW + 50} ${bars.length * row}`} role="img" aria-label={title}>
      {bars.map((b, i) => {
        const w = (b.value / max) * barW;
        const y = i * row;
        return (
          <g key={b.key} data-key={b.key} data-value={b.value}>
            <text x={labelW - 8} y={y + row / 2 + 6} text-anchor="end" class="chart-label">
              {b.label}
            </text>
            <rect
              x={labelW}
              y={y + 5}
              width={Math.max(w, b.value > 0 ? 2 : 0)}
              height={row - 10}
              rx="3"
              class="chart-bar"
            />
            <text x={labelW + w + 6} y={y + row / 2 + 6} class="chart-value">
              {b.value}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** Columns (one per day), `mark` drawn apart (today), every fifth label shown. */
export function Columns({ bars, mark, title }: { bars: Bar[]; mark?: string; title: string }) {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const col = 22;
  const h = 120;
  const top = 20;
  return (
    <svg class="chart" viewBox={`0 0 ${Math.max(bars.length, 28) * col} ${h + top + 22}`} role="img" aria-label={title}>
      <line x1="0" x2={bars.length * col} y1={top + h} y2={top + h} class="chart-axis" />
      {bars.map((b, i) => {
        const bh = (b.value / max) * h;
        const x = i * col;
        const marked = b.key === mark;
        const labelled = marked || i === 0 || (i + 1) % 5 === 0;
        return (
          <g key={b.key} data-key={b.key} data-value={b.value}>
            <rect
              x={x + 3}
              y={top + h - bh}
              width={col - 6}
              height={Math.max(bh, b.value > 0 ? 2 : 0)}
              class={marked ? "chart-bar chart-bar-mark" : "chart-bar"}
            />
            {b.value > 0 && (
              <text x={x + col / 2} y={top + h - bh - 4} text-anchor="middle" class="chart-small">
                {b.value}
              </text>
            )}
            {labelled && (
              <text
                x={x + col / 2}
                y={top + h + 16}
                text-anchor="middle"
                class={marked ? "chart-small chart-mark" : "chart-small"}
              >
                {marked ? `▲${b.label}` : b.label}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

/** A rate from 0 to 1 as a bar, with the target as a line across it. */
export function Gauge({
  value,
  target,
  level,
  title,
  targetLabel,
}: {
  value: number | undefined;
  target: number;
  level: Level;
  title: string;
  targetLabel: string;
}) {
  const w = 400;
  const v = Math.max(0, Math.min(1, value ?? 0));
  return (
    <svg class="chart" viewBox={`0 0 ${w} 70`} role="img" aria-label={title}>
      <rect x="0" y="14" width={w} height="28" rx="4" class="gauge-track" />
      {value !== undefined && (
        <rect x="0" y="14" width={v * w} height="28" rx="4" class={`gauge-fill gauge-${level}`} />
      )}
      <line x1={target * w} x2={target * w} y1="6" y2="50" class="gauge-target" />
      <text x={target * w} y="66" text-anchor="middle" class="chart-small">
        {targetLabel}
      </text>
    </svg>
  );
}
