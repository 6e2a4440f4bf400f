-- What administrators set through the API (docs/api.md, TimeLimitService and
-- AuthService): the time-limit policy and each year's holiday notice, stored over the
-- configured files; a version every instance polls to reload them; and request ids of
-- CreateUser in the one registry of request ids.

-- The time-limit policy as an administrator last saved it: the whole policy, as TOML.
-- It replaces the configured `sla_file`.
create table time_limit_policy (
    id          integer primary key check (id = 1),
    document    text not null,
    updated_by  uuid not null,
    updated_at  timestamptz not null
);

-- One year's official notice as an administrator last set it: its days off and adjusted
-- working days, a JSON array of {"date": "YYYY-MM-DD", "kind": "holiday" | "workday",
-- "name": ...}. It replaces whatever the shipped calendar and the `calendar_files` say
-- of that year.
create table holiday_years (
    year        integer primary key,
    days        jsonb not null,
    updated_by  uuid not null,
    updated_at  timestamptz not null
);

-- Grows with every change of the two tables above, in the change's transaction; every
-- instance polls it and reloads them when it has moved.
create table time_limits_version (
    id      integer primary key check (id = 1),
    version bigint not null
);

insert into time_limits_version (id, version) values (1, 0);

-- A request id may now name a user that CreateUser made.
alter table request_ids add column created_user_id uuid;
alter table request_ids drop constraint request_ids_check;
alter table request_ids add constraint request_ids_check check (
    num_nonnulls(call_id, order_id, created_user_id) = 1
    and (event_id is null or order_id is not null)
);
