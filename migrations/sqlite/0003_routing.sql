-- Routing of work orders and the legal-service map, SQLite flavour.

-- Legal service institutions with coordinates: law firms, legal service offices,
-- judicial offices, stations, village mediation committees and workrooms, county
-- command centres and legal aid centres.
create table institutions (
    id          text not null primary key,
    name        text not null,
    kind        text not null,                  -- InstitutionKind::as_str
    county_id   text not null references units (id) deferrable initially deferred,
    township_id text references units (id) deferrable initially deferred,
    village_id  text references units (id) deferrable initially deferred,
    latitude    real not null,
    longitude   real not null,
    phone       text,
    address     text,
    capacity    integer
) strict;

create index institutions_county_idx on institutions (county_id, kind);

-- Periods a person is away; routing passes them over while one is running.
create table person_leaves (
    id           text not null primary key,
    person_id    text not null references people (id) on delete cascade,
    starts_at    integer not null,              -- inclusive, microseconds
    ends_at      integer not null,              -- exclusive
    note         text,
    created_by   text not null,
    created_at   integer not null,
    cancelled_at integer
) strict;

create index person_leaves_person_idx on person_leaves (person_id, ends_at);

-- Every change of a person's availability (active, capacity, leave).
create table availability_events (
    id          integer primary key autoincrement,
    person_id   text not null references people (id) on delete cascade,
    kind        text not null,
    actor_id    text not null,
    at          integer not null,
    payload     text not null                   -- json
) strict;

create index availability_events_person_idx on availability_events (person_id, id);

-- Grows with every directory import, so in-memory indexes know when to rebuild.
create table directory_version (
    id      integer not null primary key check (id = 1),
    version integer not null
) strict;

insert into directory_version (id, version) values (1, 0);

-- The routing policy as an administrator last saved it (TOML).
create table routing_policy (
    id          integer not null primary key check (id = 1),
    document    text not null,
    updated_by  text not null,
    updated_at  integer not null
) strict;

-- Open orders per assignee: the load that routing compares with capacity.
create index work_orders_open_assignee_idx on work_orders (assignee_id)
    where assignee_id is not null and state not in ('closed', 'cancelled', 'archived');
