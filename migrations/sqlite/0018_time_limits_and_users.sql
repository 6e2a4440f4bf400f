-- What administrators set through the API (docs/api.md, TimeLimitService and
-- AuthService): the time-limit policy and each year's holiday notice, stored over the
-- configured files; a version every instance polls to reload them; and request ids of
-- CreateUser in the one registry of request ids.

-- The time-limit policy as an administrator last saved it: the whole policy, as TOML.
-- It replaces the configured `sla_file`.
create table time_limit_policy (
    id          integer not null primary key check (id = 1),
    document    text not null,
    updated_by  text not null,
    updated_at  integer not null
) strict;

-- One year's official notice as an administrator last set it: its days off and adjusted
-- working days, a JSON array of {"date": "YYYY-MM-DD", "kind": "holiday" | "workday",
-- "name": ...}. It replaces whatever the shipped calendar and the `calendar_files` say
-- of that year.
create table holiday_years (
    year        integer not null primary key,
    days        text not null,
    updated_by  text not null,
    updated_at  integer not null
) strict;

-- Grows with every change of the two tables above, in the change's transaction; every
-- instance polls it and reloads them when it has moved.
create table time_limits_version (
    id      integer not null primary key check (id = 1),
    version integer not null
) strict;

insert into time_limits_version (id, version) values (1, 0);

-- A request id may now name a user that CreateUser made. SQLite changes a check only by
-- rebuilding the table.
create table request_ids_new (
    user_id         text not null,
    request_id      text not null,
    fingerprint     blob not null,
    call_id         text,
    order_id        text,
    event_id        integer,
    created_user_id text,
    primary key (user_id, request_id),
    check ((call_id is not null) + (order_id is not null) + (created_user_id is not null) = 1
           and (event_id is null or order_id is not null))
) strict, without rowid;

insert into request_ids_new (user_id, request_id, fingerprint, call_id, order_id, event_id)
    select user_id, request_id, fingerprint, call_id, order_id, event_id from request_ids;

drop table request_ids;

alter table request_ids_new rename to request_ids;
