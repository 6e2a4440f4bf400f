import { href } from "../router";

export type Tab = { id: string; label: string; count?: number };

/** Tabs as links (#/<base>/<id>), so a reload or the back button keeps the tab. */
export function Tabs({ base, tabs, current }: { base: string; tabs: Tab[]; current: string }) {
  return (
    <nav class="tabs" role="tablist">
      {tabs.map((tab) => (
        <a
          key={tab.id}
          role="tab"
          class={`tab${tab.id === current ? " tab-current" : ""}`}
          aria-selected={tab.id === current}
          href={href(base, tab.id)}
          data-tab={tab.id}
        >
          {tab.label}
          {tab.count !== undefined && <span class="tab-count">{tab.count}</span>}
        </a>
      ))}
    </nav>
  );
}
