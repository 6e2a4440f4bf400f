// The caller's village, chosen from the keyboard: type to filter the county, township or
// village list, ↑↓ to move, Enter to take one (a county or township opens its children),
// Backspace on an empty box to go up a level.
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api";
import { UnitLevel, type Unit } from "../../gen/hotline/v1/directory_pb.js";
import { useT } from "../../i18n";

const children = new Map<string, Promise<Unit[]>>();

/** The units under `parentId` (the top level when empty), read once per page. */
function childrenOf(parentId: string): Promise<Unit[]> {
  let list = children.get(parentId);
  if (!list) {
    list = (async () => {
      const units: Unit[] = [];
      let pageToken = "";
      do {
        const page = await api.directory.listUnits({ parentId, page: { pageSize: 500, pageToken } });
        units.push(...page.units);
        pageToken = page.nextPageToken;
      } while (pageToken);
      // A single city at the top: its counties are the first choice.
      if (!parentId && units.length === 1 && units[0].level === UnitLevel.CITY) return childrenOf(units[0].id);
      return units;
    })();
    list.catch(() => children.delete(parentId));
    children.set(parentId, list);
  }
  return list;
}

/** The county, township and village of a village id, read from the directory. */
export async function placeOf(villageId: string): Promise<Unit[]> {
  const path: Unit[] = [];
  let id = villageId;
  while (id) {
    const unit = await api.directory.getUnit({ id });
    if (unit.level === UnitLevel.CITY) break;
    path.unshift(unit);
    id = unit.parentId;
  }
  return path;
}

const SHOWN = 12;

export function PlacePicker({
  id,
  value,
  onChange,
  invalid,
  disabled,
}: {
  id: string;
  /** County, township, village (a path that ends before the village is not a choice yet). */
  value: Unit[];
  onChange: (path: Unit[]) => void;
  invalid?: boolean;
  disabled?: boolean;
}) {
  const t = useT();
  const [query, setQuery] = useState("");
  const [options, setOptions] = useState<Unit[]>([]);
  const [active, setActive] = useState(0);
  const [focused, setFocused] = useState(false);
  const chosen = value.length > 0 && value[value.length - 1].level === UnitLevel.VILLAGE;
  const parent = chosen ? value[value.length - 2] : value[value.length - 1];
  const parentId = parent?.id ?? "";

  useEffect(() => {
    let live = true;
    setOptions([]); // never offer the level above while the next one loads
    childrenOf(parentId).then(
      (units) => live && setOptions(units),
      () => live && setOptions([]),
    );
    return () => {
      live = false;
    };
  }, [parentId]);

  const q = query.trim();
  const shown = options.filter((u) => !q || u.name.includes(q) || u.id.startsWith(q)).slice(0, SHOWN);
  const current = Math.min(active, Math.max(shown.length - 1, 0));

  function take(unit: Unit) {
    const above = chosen ? value.slice(0, -1) : value;
    onChange([...above, unit]);
    setQuery("");
    setActive(0);
  }

  function onKeyDown(e: KeyboardEvent) {
    const listing = focused && (!chosen || q !== "");
    if (e.key === "ArrowDown" && shown.length) {
      e.preventDefault();
      setActive((current + 1) % shown.length);
    } else if (e.key === "ArrowUp" && shown.length) {
      e.preventDefault();
      setActive((current - 1 + shown.length) % shown.length);
    } else if (e.key === "Enter" && !e.altKey && !e.ctrlKey && (listing || !chosen)) {
      // Until a village is taken, Enter chooses in the list and never submits the form.
      e.preventDefault();
      e.stopPropagation();
      if (shown.length) take(shown[current]);
    } else if (e.key === "Backspace" && query === "" && value.length > 0) {
      e.preventDefault();
      onChange(value.slice(0, -1));
      setActive(0);
    } else if (e.key === "Escape" && query !== "") {
      e.preventDefault();
      e.stopPropagation();
      setQuery("");
    }
  }

  const listId = `${id}-list`;
  const open = focused && !disabled && (!chosen || q !== "");
  return (
    <div class={`picker${invalid ? " picker-invalid" : ""}`}>
      <div class="picker-row">
        <div class="picker-path" data-testid="village-path">
          {value.map((u, i) => (
            <span key={u.id} class={u.level === UnitLevel.VILLAGE ? "picker-village" : undefined}>
              {i > 0 && " › "}
              {u.name}
            </span>
          ))}
        </div>
        <input
          id={id}
          role="combobox"
          autocomplete="off"
          placeholder={chosen ? "" : t("intake.villageHint")}
          aria-expanded={open ? "true" : "false"}
          aria-controls={listId}
          aria-activedescendant={open && shown.length ? `${listId}-${current}` : undefined}
          aria-invalid={invalid ? "true" : undefined}
          disabled={disabled}
          value={query}
          onInput={(e) => {
            setQuery(e.currentTarget.value);
            setActive(0);
          }}
          onKeyDown={onKeyDown}
          onFocus={() => setFocused(true)}
          onBlur={() => setFocused(false)}
        />
      </div>
      {open && (
        <ul class="picker-list" role="listbox" id={listId}>
          {shown.map((u, i) => (
            <li
              key={u.id}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === current ? "true" : "false"}
              class={i === current ? "picker-active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault(); // keep focus in the box
                take(u);
              }}
            >
              {u.name}
              <span class="muted"> {u.id}</span>
              {u.level !== UnitLevel.VILLAGE && <span aria-hidden="true"> ›</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
