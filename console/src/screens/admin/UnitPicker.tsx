// A unit of the administrative tree, picked level by level (city, county, township,
// village) from the directory; the deepest level chosen is the unit.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../../api";
import type { Unit } from "../../gen/hotline/v1/directory_pb.js";
import { useT } from "../../i18n";

const children = new Map<string, Promise<Unit[]>>();

/** The units under `parentId` (the top of the tree when empty), every page. */
function childrenOf(parentId: string): Promise<Unit[]> {
  let units = children.get(parentId);
  if (!units) {
    units = (async () => {
      const all: Unit[] = [];
      let pageToken = "";
      do {
        const page = await api.directory.listUnits({ parentId, page: { pageSize: 500, pageToken } });
        all.push(...page.units);
        pageToken = page.nextPageToken;
      } while (pageToken);
      return all;
    })();
    units.catch(() => children.delete(parentId));
    children.set(parentId, units);
  }
  return units;
}

type Level = { options: Unit[]; chosen: string };

export function UnitPicker({
  id,
  onChange,
  invalid,
}: {
  id: string;
  onChange: (unit: Unit | undefined) => void;
  invalid?: boolean;
}) {
  const t = useT();
  const [levels, setLevels] = useState<Level[]>([]);
  const [failed, setFailed] = useState(false);
  const latest = useRef(0);

  /** Chooses `unitId` at level `at` (empty: none), then offers the units under it. */
  async function choose(base: Level[], at: number, unitId: string) {
    const mine = ++latest.current;
    const kept = base.slice(0, at + 1).map((l, i) => (i === at ? { ...l, chosen: unitId } : l));
    setLevels(kept);
    const unit = kept[at].options.find((u) => u.id === unitId);
    onChange(unit ?? (at > 0 ? kept[at - 1].options.find((u) => u.id === kept[at - 1].chosen) : undefined));
    if (!unit) return;
    try {
      const next = await childrenOf(unit.id);
      if (mine === latest.current && next.length > 0) setLevels([...kept, { options: next, chosen: "" }]);
    } catch {
      setFailed(true);
    }
  }

  useEffect(() => {
    childrenOf("").then(
      (top) => {
        const first = [{ options: top, chosen: "" }];
        if (top.length === 1) choose(first, 0, top[0].id);
        else setLevels(first);
      },
      () => setFailed(true),
    );
  }, []);

  if (failed) return <p class="field-error">{t("err.networkGaveUp")}</p>;
  return (
    <div class="unit-picker">
      {levels.map((level, i) => (
        <select
          key={i}
          id={i === 0 ? id : `${id}-${i}`}
          aria-label={i === 0 ? undefined : `${t("users.unit")} ${i + 1}`}
          aria-invalid={invalid ? "true" : undefined}
          value={level.chosen}
          onChange={(e) => choose(levels, i, e.currentTarget.value)}
        >
          <option value="">{i === 0 ? "—" : t("users.unitAll")}</option>
          {level.options.map((u) => (
            <option key={u.id} value={u.id}>
              {u.name}
            </option>
          ))}
        </select>
      ))}
    </div>
  );
}
