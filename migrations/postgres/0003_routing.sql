-- Routing of work orders and the legal-service map, PostgreSQL flavour.

-- Legal service institutions with coordinates: law firms, legal service offices,
-- judicial offices, stations, village mediation committees and workrooms, county
-- command centres and legal aid centres.
create table institutions (
    id          text primary key,
    name        text not null,
    kind        text not null,                  -- InstitutionKind::as_str
    county_id   text not null references units (id) deferrable initially deferred,
    township_id text references units (id) deferrable initially deferred,
    village_id  text references units (id) deferrable initially deferred,
    latitude    double precision not null,
    longitude   double precision not null,
    phone       text,
    address     text,
    capacity    integer
);

create index institutions_county_idx on institutions (county_id, kind);

-- Periods a person is away; routing passes them over while one is running.
create table person_leaves (
    id           uuid primary key,
    person_id    text not null references people (id) on delete cascade,
    starts_at    timestamptz not null,          -- inclusive
    ends_at      timestamptz not null,          -- exclusive
    note         text,
    created_by   uuid not null,
    created_at   timestamptz not null,
    cancelled_at timestamptz
);

create index person_leaves_person_idx on person_leaves (person_id, ends_at);

-- Every change of a person's availability (active, capacity, leave).
create table availability_events (
    id          bigserial primary key,
    person_id   text not null references people (id) on delete cascade,
    kind        text not null,
    actor_id    uuid not null,
    at          timestamptz not null,
    payload     jsonb not null
);

create index availability_events_person_idx on availability_events (person_id, id);

-- Grows with every directory import, so in-memory indexes know when to rebuild.
create table directory_version (
    id      integer primary key check (id = 1),
    version bigint not null
);

insert into directory_version (id, version) values (1, 0);

-- The routing policy as an administrator last saved it (TOML).
create table routing_policy (
    id          integer primary key check (id = 1),
    document    text not null,
    updated_by  uuid not null,
    updated_at  timestamptz not null
);

-- Open orders per assignee: the load that routing compares with capacity.
create index work_orders_open_assignee_idx on work_orders (assignee_id)
    where assignee_id is not null and state not in ('closed', 'cancelled', 'archived');
