// A few line icons drawn inline, so they look the same on every phone whatever its fonts.
const PATHS = {
  clock: "M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18zM12 7v5l3 2",
  alert: "M12 3L2 20h20L12 3zM12 10v4M12 17v.5",
  flag: "M5 21V4M5 4h11l-2 4l2 4H5",
  stop: "M8 3h8l5 5v8l-5 5H8l-5-5V8zM12 8v5M12 16v.5",
  bolt: "M13 2L4 14h7l-1 8l9-12h-7z",
  check: "M4 12l5 5L20 6",
  cross: "M6 6l12 12M18 6L6 18",
  info: "M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18zM12 11v6M12 7.5v.5",
  back: "M15 5l-7 7l7 7",
  dot: "M12 8a4 4 0 1 0 0 8a4 4 0 0 0 0-8z",
};

export type IconName = keyof typeof PATHS;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg class={`icon icon-${name}`} viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true">
      <path
        d={PATHS[name]}
        fill={name === "dot" ? "currentColor" : "none"}
        stroke="currentColor"
        stroke-width="2.2"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}
