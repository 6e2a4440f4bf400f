-- Hotline 12348: the initial schema, PostgreSQL flavour.
--
-- Conventions of this backend:
--   * instants are timestamptz (UTC, microseconds);
--   * money is numeric(16,2): exact yuan with fen;
--   * enums hold their stable lowercase names (`as_str` in hotline-domain);
--   * nested parts of a work order are jsonb.
-- Directory references are deferred foreign keys: a batch import may name a parent
-- before it inserts it; they are checked at commit.

-- ---- directory ----------------------------------------------------------------

-- The administrative tree: city -> county -> township (street) -> village (community).
create table units (
    id          text primary key,                -- division code or other stable code
    parent_id   text references units (id) deferrable initially deferred,
    level       text not null,                   -- city | county | township | village
    name        text not null,
    latitude    double precision,
    longitude   double precision
);

-- Children of a parent by id (the top level is parent_id is null).
create index units_parent_idx on units (parent_id, id);
create index units_level_idx on units (level, id);

-- One legal service station per township.
create table stations (
    id          text primary key,
    township_id text not null unique references units (id) deferrable initially deferred,
    name        text not null,
    phone       text,
    address     text
);

-- Legal service personnel.
create table people (
    id               text primary key,
    name             text not null,
    kind             text not null,             -- lawyer | legal_service_worker | ...
    organization     text,                      -- home firm or office
    phone            text,
    team_township_id text references units (id) deferrable initially deferred,
    team_role        text,                      -- lead | member
    active           boolean not null,
    capacity         integer not null           -- open orders they can carry at once
);

create index people_team_idx on people (team_township_id, id);

-- Villages a person is the legal counsel of, in the order they were given.
create table counsel_villages (
    person_id   text not null references people (id) on delete cascade
                    deferrable initially deferred,
    village_id  text not null references units (id) deferrable initially deferred,
    position    integer not null,
    primary key (person_id, village_id)
);

create index counsel_villages_village_idx on counsel_villages (village_id, person_id);

-- ---- users ----------------------------------------------------------------------

create table users (
    id            uuid primary key,
    username      text not null unique,
    display_name  text not null,
    role          text not null,
    unit_id       text not null,                -- home unit (no foreign key: users may
                                                -- exist before the directory is imported)
    person_id     text,
    password_hash text not null,                -- argon2id PHC string
    active        boolean not null,
    created_at    timestamptz not null
);

-- ---- calls ----------------------------------------------------------------------

-- The intake record of a call, as the seat agent recorded it.
create table calls (
    id                  uuid primary key,
    telephony_call_id   text,
    channel             text not null,
    call_time           timestamptz not null,
    agent_id            uuid not null,
    caller_name         text,
    caller_phone        text,                   -- digits only, as Phone::expose()
    caller_anonymous    boolean not null,
    caller_confidential boolean not null,
    county_id           text not null,
    township_id         text not null,
    village_id          text not null,
    category            text not null,
    subcategory         text not null,
    urgency             text not null,
    summary             text not null,
    answer              text,
    amount_in_dispute   numeric(16, 2),
    created_at          timestamptz not null,
    request_id          text,                   -- the agent's idempotency key
    constraint calls_agent_request_key unique (agent_id, request_id)
);

create index calls_caller_phone_idx on calls (caller_phone, call_time desc, id desc)
    where caller_phone is not null;
create index calls_telephony_idx on calls (telephony_call_id)
    where telephony_call_id is not null;

-- ---- work orders ------------------------------------------------------------------

-- The daily sequence behind order numbers: day is the Shanghai date yyyymmdd.
create table order_counters (
    day     text primary key,
    value   bigint not null
);

-- Typed columns for everything that is filtered or counted; jsonb for the nested parts,
-- so the whole WorkOrder round-trips exactly.
create table work_orders (
    id                    uuid primary key,
    number                text not null unique,  -- GD + yyyymmdd + 6-digit sequence
    version               bigint not null,
    state                 text not null,
    call_id               uuid,
    channel               text not null,
    caller_name           text,
    caller_phone          text,
    caller_anonymous      boolean not null,
    caller_confidential   boolean not null,
    county_id             text not null,
    township_id           text not null,
    village_id            text not null,
    category              text not null,
    subcategory           text not null,
    urgency               text not null,
    complex               boolean not null,
    description           text not null,
    agent_answer          text,
    amount_in_dispute     numeric(16, 2),
    handling_unit_id      text,                  -- target.unit_id
    assignee_id           text,                  -- target.assignee_id
    dispatch_due          timestamptz,
    sign_off_due          timestamptz,
    reply_due             timestamptz,
    callback_due          timestamptz,
    redo_due              timestamptz,
    -- The deadline the order is running against now (WorkOrder::current_deadline),
    -- maintained on every write; null when no clock runs.
    current_due           timestamptz,
    dispatched_at         timestamptz,
    signed_off_at         timestamptz,
    replied_at            timestamptz,
    closed_at             timestamptz,
    archived_at           timestamptz,
    pending_return        jsonb,                 -- ReturnRequest
    pending_extension     jsonb,                 -- ExtensionRequest
    result                jsonb,                 -- HandlingResult
    callback              jsonb,                 -- Callback
    resolved              boolean,               -- result.resolved
    amount_recovered      numeric(16, 2),        -- result.amount_recovered
    callback_satisfaction text,                  -- callback.satisfaction
    callback_at           timestamptz,           -- callback.at
    cancel_reason         text,
    return_count          integer not null,
    extension_count       integer not null,
    redo_count            integer not null,
    dissatisfied_count    integer not null,
    created_by            uuid not null,
    created_at            timestamptz not null,
    updated_at            timestamptz not null,
    request_id            text,                  -- the creator's idempotency key
    constraint work_orders_creator_request_key unique (created_by, request_id)
);

-- The list order (newest first) and each list filter followed by that order.
create index work_orders_created_idx on work_orders (created_at desc, id desc);
create index work_orders_state_idx on work_orders (state, created_at desc, id desc);
create index work_orders_county_idx on work_orders (county_id, created_at desc, id desc);
create index work_orders_township_idx on work_orders (township_id, created_at desc, id desc);
create index work_orders_village_idx on work_orders (village_id, created_at desc, id desc);
create index work_orders_unit_idx on work_orders (handling_unit_id, created_at desc, id desc)
    where handling_unit_id is not null;
create index work_orders_assignee_idx on work_orders (assignee_id, created_at desc, id desc)
    where assignee_id is not null;
-- Open orders by the deadline they run against: the overdue filter and the sweeper.
-- current_due is null for closed, cancelled and archived orders (and while the
-- dispatcher has the turn), so this holds exactly the open orders whose clock runs.
create index work_orders_due_idx on work_orders (current_due) where current_due is not null;
create index work_orders_caller_phone_idx on work_orders (caller_phone, created_at desc, id desc)
    where caller_phone is not null;

-- The history of every order. The backend takes a transaction-scoped advisory lock
-- before it inserts an event, so ids are handed out and committed in the same order
-- and a reader paging by id never skips an event that commits late.
create table work_order_events (
    id          bigint generated always as identity primary key,
    order_id    uuid not null references work_orders (id),
    seq         bigint not null,                 -- the order's version after the event
    kind        text not null,
    actor_id    uuid not null,
    actor_role  text not null,
    at          timestamptz not null,
    from_state  text,
    to_state    text not null,
    payload     jsonb not null,
    request_id  text,                            -- the actor's idempotency key
    constraint work_order_events_seq_key unique (order_id, seq),
    constraint work_order_events_request_key unique (order_id, actor_id, request_id)
);
