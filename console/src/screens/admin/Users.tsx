// Users: the list (by role and active or not, page by page), adding a user, and per
// user a password reset and deactivation.
import { Code } from "@connectrpc/connect";
import { useEffect, useState } from "preact/hooks";
import { useAction, type ActionState } from "../../action";
import { api, failure, readFailureKey, type User } from "../../api";
import { ActionStatus } from "../../components/ActionStatus";
import { Banner } from "../../components/Banner";
import { Button } from "../../components/Button";
import { Field } from "../../components/Field";
import { Role } from "../../gen/hotline/v1/common_pb.js";
import { UnitLevel, type Person, type Unit } from "../../gen/hotline/v1/directory_pb.js";
import { usePersonName, useUnitName } from "../../directory";
import { enumLabel, formatDateTime, useT, type Key } from "../../i18n";
import { date } from "../../orders";
import { useSession } from "../../session";
import { forgetUserNames } from "./names";
import { UnitPicker } from "./UnitPicker";

const PAGE_SIZE = 50;
/** Every role a user can have (the server's own, ROLE_SYSTEM, is not one). */
const ROLES = [
  Role.SEAT_AGENT,
  Role.DISPATCHER,
  Role.CALLBACK_AGENT,
  Role.COUNSEL,
  Role.STATION_LEAD,
  Role.COUNTY_MANAGER,
  Role.CITY_ADMIN,
  Role.TELEPHONY,
];
const WITH_PERSON = [Role.COUNSEL, Role.STATION_LEAD];

/**
 * The field an action's refusal names: INVALID_ARGUMENT's, and ALREADY_EXISTS's
 * (`username: \`counsel\` is taken ...`).
 */
function refusedField(state: ActionState): { field: string; message: string } | undefined {
  if (state.phase !== "failed") return undefined;
  const f = state.failure;
  if (f.kind === "field") return f;
  if (f.kind === "other" && f.code === Code.AlreadyExists) {
    const m = /^([A-Za-z_][\w.]*): (.*)$/s.exec(f.message);
    if (m) return { field: m[1], message: m[2] };
  }
  return undefined;
}

type Filter = { role: Role; active: "" | "yes" | "no" };

export function Users() {
  const t = useT();
  const [filter, setFilter] = useState<Filter>({ role: Role.UNSPECIFIED, active: "" });
  // The page tokens of the pages shown so far; the last is the page on screen.
  const [pages, setPages] = useState<string[]>([""]);
  const [list, setList] = useState<{ users: User[]; next: string }>();
  const [loadError, setLoadError] = useState<Key>();
  const [reloads, setReloads] = useState(0);
  const [adding, setAdding] = useState(false);
  const [notice, setNotice] = useState<string>();
  const pageToken = pages[pages.length - 1];

  useEffect(() => {
    let live = true;
    setLoadError(undefined);
    api.auth
      .listUsers({
        role: filter.role,
        active: filter.active === "" ? undefined : filter.active === "yes",
        page: { pageSize: PAGE_SIZE, pageToken },
      })
      .then(
        (answer) => live && setList({ users: answer.users, next: answer.nextPageToken }),
        (err) => live && setLoadError(readFailureKey(failure(err))),
      );
    return () => {
      live = false;
    };
  }, [filter, pageToken, reloads]);

  function refilter(next: Partial<Filter>) {
    setFilter({ ...filter, ...next });
    setPages([""]);
  }

  function changed(text: string) {
    setNotice(text);
    forgetUserNames();
    setReloads((n) => n + 1);
  }

  return (
    <section class="users">
      <div class="users-bar">
        <label class="users-filter">
          <span>{t("users.role")}</span>
          <select
            id="filter-role"
            value={filter.role}
            onChange={(e) => refilter({ role: Number(e.currentTarget.value) as Role })}
          >
            <option value={Role.UNSPECIFIED}>{t("users.allRoles")}</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {enumLabel(t, "role", r)}
              </option>
            ))}
          </select>
        </label>
        <label class="users-filter">
          <span>{t("users.status")}</span>
          <select
            id="filter-active"
            value={filter.active}
            onChange={(e) => refilter({ active: e.currentTarget.value as Filter["active"] })}
          >
            <option value="">{t("users.allStatus")}</option>
            <option value="yes">{t("users.active")}</option>
            <option value="no">{t("users.inactive")}</option>
          </select>
        </label>
        {!adding && (
          <Button
            onClick={() => {
              setAdding(true);
              setNotice(undefined);
            }}
            data-testid="add-user"
          >
            {t("users.add")}
          </Button>
        )}
      </div>
      {notice && (
        <Banner tone="success" testid="users-notice">
          {notice}
        </Banner>
      )}
      {adding && (
        <AddUser
          onCancel={() => setAdding(false)}
          onCreated={(user) => {
            setAdding(false);
            changed(t("users.created", { name: `${user.displayName} (${user.username})` }));
          }}
        />
      )}
      {loadError && <Banner tone="error">{t(loadError)}</Banner>}
      {!list ? (
        <p class="loading">{t("app.loading")}</p>
      ) : list.users.length === 0 ? (
        <p class="empty">{t("users.empty")}</p>
      ) : (
        <table class="admin-table users-table" data-testid="users">
          <thead>
            <tr>
              <th>{t("users.username")}</th>
              <th>{t("users.displayName")}</th>
              <th>{t("users.role")}</th>
              <th>{t("users.unit")}</th>
              <th>{t("users.person")}</th>
              <th>{t("users.status")}</th>
              <th>{t("users.createdAt")}</th>
              <th>{t("users.actions")}</th>
            </tr>
          </thead>
          {list.users.map((u) => (
            <UserRow key={u.id} user={u} onChanged={changed} />
          ))}
        </table>
      )}
      <div class="pager">
        <Button kind="secondary" disabled={pages.length === 1} onClick={() => setPages(pages.slice(0, -1))}>
          {t("users.prev")}
        </Button>
        <span>{t("users.page", { n: pages.length })}</span>
        <Button
          kind="secondary"
          disabled={!list?.next}
          onClick={() => list?.next && setPages([...pages, list.next])}
          data-testid="next-page"
        >
          {t("users.next")}
        </Button>
      </div>
    </section>
  );
}

function UserRow({ user, onChanged }: { user: User; onChanged: (notice: string) => void }) {
  const t = useT();
  const { user: me } = useSession();
  const unit = useUnitName(user.unitId || undefined);
  const person = usePersonName(user.personId || undefined);
  const [open, setOpen] = useState<"reset" | "deactivate">();
  const created = date(user.createdAt);
  const name = `${user.displayName} (${user.username})`;
  return (
    <tbody data-user={user.username} class={user.active ? undefined : "user-inactive"}>
      <tr>
        <td class="mono">{user.username}</td>
        <td>{user.displayName}</td>
        <td>{enumLabel(t, "role", user.role)}</td>
        <td>{unit}</td>
        <td>{person}</td>
        <td>
          {user.active ? (
            <span class="badge user-active">{t("users.active")}</span>
          ) : (
            <span class="badge user-off" data-testid="inactive">
              {t("users.inactive")}
            </span>
          )}
        </td>
        <td class="nowrap">{created ? formatDateTime(t, created) : ""}</td>
        <td class="row-buttons">
          {user.id === me.id ? (
            <span class="muted">{t("users.self")}</span>
          ) : (
            <>
              <Button kind="quiet" onClick={() => setOpen(open === "reset" ? undefined : "reset")} data-testid="reset">
                {t("users.reset")}
              </Button>
              {user.active && (
                <Button
                  kind="danger"
                  onClick={() => setOpen(open === "deactivate" ? undefined : "deactivate")}
                  data-testid="deactivate"
                >
                  {t("users.deactivate")}
                </Button>
              )}
            </>
          )}
        </td>
      </tr>
      {open && (
        <tr class="row-panel">
          <td colSpan={8}>
            {open === "reset" ? (
              <ResetPassword
                user={user}
                onCancel={() => setOpen(undefined)}
                onDone={(n) => {
                  setOpen(undefined);
                  onChanged(t("users.resetDone", { name, n }));
                }}
              />
            ) : (
              <Deactivate
                user={user}
                onCancel={() => setOpen(undefined)}
                onDone={(n) => {
                  setOpen(undefined);
                  onChanged(t("users.deactivated", { name, n }));
                }}
              />
            )}
          </td>
        </tr>
      )}
    </tbody>
  );
}

function Deactivate({ user, onCancel, onDone }: { user: User; onCancel: () => void; onDone: (n: string) => void }) {
  const t = useT();
  const action = useAction();
  async function confirm() {
    const request = { userId: user.id };
    const { answer } = await action.run(request, () => api.auth.deactivateUser(request));
    if (answer) onDone(String(answer.sessionsRevoked));
  }
  return (
    <div class="confirm" role="group">
      <p>{t("users.deactivateConfirm", { name: `${user.displayName} (${user.username})` })}</p>
      <ActionStatus state={action.state} onRetry={confirm} />
      <div class="admin-buttons">
        <Button kind="danger" onClick={confirm} busy={action.busy} data-testid="confirm-deactivate">
          {t("users.deactivate")}
        </Button>
        <Button kind="secondary" onClick={onCancel}>
          {t("app.cancel")}
        </Button>
      </div>
    </div>
  );
}

function ResetPassword({ user, onCancel, onDone }: { user: User; onCancel: () => void; onDone: (n: string) => void }) {
  const t = useT();
  const action = useAction();
  const [password, setPassword] = useState("");
  const [local, setLocal] = useState<string>();
  const id = `reset-${user.id}`;

  async function submit(e: Event) {
    e.preventDefault();
    const short = password.length < 10 ? t(password ? "users.passwordShort" : "form.required") : undefined;
    setLocal(short);
    if (short) return;
    const request = { userId: user.id, password };
    const { answer } = await action.run(request, () => api.auth.resetPassword(request));
    if (answer) onDone(String(answer.sessionsRevoked));
  }

  const refused = refusedField(action.state);
  const error = local ?? (refused?.field === "password" ? refused.message : undefined);
  return (
    <form class="inline-form" onSubmit={submit} noValidate>
      <Field label={t("users.newPassword")} for={id} error={error} hint={t("users.passwordHint")}>
        <input
          id={id}
          type="password"
          autocomplete="new-password"
          value={password}
          aria-invalid={error ? "true" : undefined}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </Field>
      {!(refused?.field === "password") && (
        <ActionStatus state={action.state} onRetry={() => submit(new Event("submit"))} />
      )}
      <div class="admin-buttons">
        <Button type="submit" busy={action.busy} data-testid="confirm-reset">
          {t("users.reset")}
        </Button>
        <Button kind="secondary" onClick={onCancel}>
          {t("app.cancel")}
        </Button>
      </div>
    </form>
  );
}

/** The form fields and the request's field each stands for. */
const FIELDS = {
  username: "new-username",
  display_name: "new-display-name",
  role: "new-role",
  unit_id: "new-unit",
  person_id: "new-person",
  password: "new-password",
} as const;
type FieldName = keyof typeof FIELDS;

function AddUser({ onCreated, onCancel }: { onCreated: (user: User) => void; onCancel: () => void }) {
  const t = useT();
  const action = useAction();
  const [username, setUsername] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [role, setRole] = useState<Role>(Role.UNSPECIFIED);
  const [unit, setUnit] = useState<Unit>();
  const [personId, setPersonId] = useState("");
  const [people, setPeople] = useState<Person[]>();
  const [password, setPassword] = useState("");
  const [local, setLocal] = useState<Partial<Record<FieldName, string>>>({});
  const needsPerson = WITH_PERSON.includes(role);

  // The people who may be this counsel or station lead: those who serve the unit.
  useEffect(() => {
    setPeople(undefined);
    setPersonId("");
    if (!needsPerson || !unit) return;
    const request =
      unit.level === UnitLevel.VILLAGE
        ? { villageId: unit.id }
        : unit.level === UnitLevel.TOWNSHIP
          ? { teamTownshipId: unit.id }
          : undefined;
    if (!request) return setPeople([]);
    let live = true;
    api.directory.listPeople({ ...request, page: { pageSize: 500 } }).then(
      (answer) => {
        if (!live) return;
        setPeople(answer.people);
        if (answer.people.length === 1) setPersonId(answer.people[0].id);
      },
      () => live && setPeople([]),
    );
    return () => {
      live = false;
    };
  }, [needsPerson, unit?.id]);

  async function submit(e: Event) {
    e.preventDefault();
    const missing: Partial<Record<FieldName, string>> = {};
    const required = t("form.required");
    if (!username.trim()) missing.username = required;
    if (!role) missing.role = required;
    if (!unit) missing.unit_id = required;
    if (needsPerson && !personId) missing.person_id = required;
    if (password.length < 10) missing.password = password ? t("users.passwordShort") : required;
    setLocal(missing);
    if (Object.keys(missing).length > 0) return;
    const request = {
      username: username.trim(),
      displayName: displayName.trim(),
      role,
      unitId: unit?.id ?? "",
      personId: needsPerson ? personId : "",
      password,
    };
    const { answer } = await action.run(request, (requestId) => api.auth.createUser({ ...request, requestId }));
    if (answer) onCreated(answer);
  }

  const refused = refusedField(action.state);
  const error = (field: FieldName) => local[field] ?? (refused?.field === field ? refused.message : undefined);
  const shownRefusal = refused && refused.field in FIELDS;
  return (
    <form class="card add-user" onSubmit={submit} noValidate data-testid="add-user-form">
      <h2>{t("users.add")}</h2>
      <div class="add-user-grid">
        <Field label={t("users.username")} for={FIELDS.username} error={error("username")}>
          <input
            id={FIELDS.username}
            autocomplete="off"
            autocapitalize="none"
            value={username}
            aria-invalid={error("username") ? "true" : undefined}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </Field>
        <Field
          label={t("users.displayName")}
          for={FIELDS.display_name}
          error={error("display_name")}
          hint={t("users.displayNameHint")}
        >
          <input
            id={FIELDS.display_name}
            autocomplete="off"
            value={displayName}
            aria-invalid={error("display_name") ? "true" : undefined}
            onInput={(e) => setDisplayName(e.currentTarget.value)}
          />
        </Field>
        <Field label={t("users.role")} for={FIELDS.role} error={error("role")}>
          <select
            id={FIELDS.role}
            value={role}
            aria-invalid={error("role") ? "true" : undefined}
            onChange={(e) => setRole(Number(e.currentTarget.value) as Role)}
          >
            <option value={Role.UNSPECIFIED}>—</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {enumLabel(t, "role", r)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t("users.unit")} for={FIELDS.unit_id} error={error("unit_id")}>
          <UnitPicker id={FIELDS.unit_id} onChange={setUnit} invalid={!!error("unit_id")} />
        </Field>
        {needsPerson && (
          <Field
            label={t("users.person")}
            for={FIELDS.person_id}
            error={error("person_id")}
            hint={people && people.length === 0 ? t("users.personEmpty") : t("users.personHint")}
          >
            <select
              id={FIELDS.person_id}
              value={personId}
              aria-invalid={error("person_id") ? "true" : undefined}
              onChange={(e) => setPersonId(e.currentTarget.value)}
            >
              <option value="">{t("users.personNone")}</option>
              {(people ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name} · {p.organization} ({p.id})
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field
          label={t("users.password")}
          for={FIELDS.password}
          error={error("password")}
          hint={t("users.passwordHint")}
        >
          <input
            id={FIELDS.password}
            type="password"
            autocomplete="new-password"
            value={password}
            aria-invalid={error("password") ? "true" : undefined}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </Field>
      </div>
      {!shownRefusal && <ActionStatus state={action.state} onRetry={() => submit(new Event("submit"))} />}
      <div class="admin-buttons">
        <Button type="submit" busy={action.busy} data-testid="create-user">
          {t("users.add")}
        </Button>
        <Button kind="secondary" onClick={onCancel}>
          {t("app.cancel")}
        </Button>
      </div>
    </form>
  );
}
