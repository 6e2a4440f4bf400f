-- Hotline 12348: the initial schema, SQLite flavour.
--
-- Conventions of this backend:
--   * instants are integer microseconds since the Unix epoch (UTC): exact, ordered,
--     cheap to index; the backend converts to and from chrono;
--   * uuids are lowercase hyphenated text, which sorts like the uuid bytes;
--   * money is text holding an exact decimal (rust_decimal), e.g. '8200000.00';
--   * enums hold their stable lowercase names (`as_str` in hotline-domain);
--   * nested parts of a work order are json text; booleans are integer 0 / 1.
-- Tables are strict, so a value of the wrong type is refused, not silently stored.
-- Directory references are deferred foreign keys: a batch import may name a parent
-- before it inserts it; they are checked at commit.

-- ---- directory ----------------------------------------------------------------

-- The administrative tree: city -> county -> township (street) -> village (community).
create table units (
    id          text not null primary key,      -- division code or other stable code
    parent_id   text references units (id) deferrable initially deferred,
    level       text not null,                  -- city | county | township | village
    name        text not null,
    latitude    real,
    longitude   real
) strict;

-- Children of a parent by id (the top level is parent_id is null).
create index units_parent_idx on units (parent_id, id);
create index units_level_idx on units (level, id);

-- One legal service station per township.
create table stations (
    id          text not null primary key,
    township_id text not null unique references units (id) deferrable initially deferred,
    name        text not null,
    phone       text,
    address     text
) strict;

-- Legal service personnel.
create table people (
    id               text not null primary key,
    name             text not null,
    kind             text not null,             -- lawyer | legal_service_worker | ...
    organization     text,                      -- home firm or office
    phone            text,
    team_township_id text references units (id) deferrable initially deferred,
    team_role        text,                      -- lead | member
    active           integer not null,
    capacity         integer not null           -- open orders they can carry at once
) strict;

create index people_team_idx on people (team_township_id, id);

-- Villages a person is the legal counsel of, in the order they were given.
create table counsel_villages (
    person_id   text not null references people (id) on delete cascade
                    deferrable initially deferred,
    village_id  text not null references units (id) deferrable initially deferred,
    position    integer not null,
    primary key (person_id, village_id)
) strict, without rowid;

create index counsel_villages_village_idx on counsel_villages (village_id, person_id);

-- ---- users ----------------------------------------------------------------------

create table users (
    id            text not null primary key,
    username      text not null unique,
    display_name  text not null,
    role          text not null,
    unit_id       text not null,                -- home unit (no foreign key: users may
                                                -- exist before the directory is imported)
    person_id     text,
    password_hash text not null,                -- argon2id PHC string
    active        integer not null,
    created_at    integer not null
) strict;

-- ---- calls ----------------------------------------------------------------------

-- The intake record of a call, as the seat agent recorded it.
create table calls (
    id                  text not null primary key,
    telephony_call_id   text,
    channel             text not null,
    call_time           integer not null,
    agent_id            text not null,
    caller_name         text,
    caller_phone        text,                   -- digits only, as Phone::expose()
    caller_anonymous    integer not null,
    caller_confidential integer not null,
    county_id           text not null,
    township_id         text not null,
    village_id          text not null,
    category            text not null,
    subcategory         text not null,
    urgency             text not null,
    summary             text not null,
    answer              text,
    amount_in_dispute   text,
    created_at          integer not null,
    request_id          text,                   -- the agent's idempotency key
    unique (agent_id, request_id)
) strict;

create index calls_caller_phone_idx on calls (caller_phone, call_time desc, id desc)
    where caller_phone is not null;
create index calls_telephony_idx on calls (telephony_call_id)
    where telephony_call_id is not null;

-- ---- work orders ------------------------------------------------------------------

-- The daily sequence behind order numbers: day is the Shanghai date yyyymmdd.
create table order_counters (
    day     text not null primary key,
    value   integer not null
) strict;

-- Typed columns for everything that is filtered or counted; json for the nested parts,
-- so the whole WorkOrder round-trips exactly.
create table work_orders (
    id                    text not null primary key,
    number                text not null unique,  -- GD + yyyymmdd + 6-digit sequence
    version               integer not null,
    state                 text not null,
    call_id               text,
    channel               text not null,
    caller_name           text,
    caller_phone          text,
    caller_anonymous      integer not null,
    caller_confidential   integer not null,
    county_id             text not null,
    township_id           text not null,
    village_id            text not null,
    category              text not null,
    subcategory           text not null,
    urgency               text not null,
    complex               integer not null,
    description           text not null,
    agent_answer          text,
    amount_in_dispute     text,
    handling_unit_id      text,                  -- target.unit_id
    assignee_id           text,                  -- target.assignee_id
    dispatch_due          integer,
    sign_off_due          integer,
    reply_due             integer,
    callback_due          integer,
    redo_due              integer,
    -- The deadline the order is running against now (WorkOrder::current_deadline),
    -- maintained on every write; null when no clock runs.
    current_due           integer,
    dispatched_at         integer,
    signed_off_at         integer,
    replied_at            integer,
    closed_at             integer,
    archived_at           integer,
    pending_return        text,                  -- json ReturnRequest
    pending_extension     text,                  -- json ExtensionRequest
    result                text,                  -- json HandlingResult
    callback              text,                  -- json Callback
    resolved              integer,               -- result.resolved
    amount_recovered      text,                  -- result.amount_recovered
    callback_satisfaction text,                  -- callback.satisfaction
    callback_at           integer,               -- callback.at
    cancel_reason         text,
    return_count          integer not null,
    extension_count       integer not null,
    redo_count            integer not null,
    dissatisfied_count    integer not null,
    created_by            text not null,
    created_at            integer not null,
    updated_at            integer not null,
    request_id            text,                  -- the creator's idempotency key
    unique (created_by, request_id)
) strict;

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

-- The history of every order; id increases in commit order (SQLite has one writer).
create table work_order_events (
    id          integer primary key autoincrement,
    order_id    text not null references work_orders (id),
    seq         integer not null,                -- the order's version after the event
    kind        text not null,
    actor_id    text not null,
    actor_role  text not null,
    at          integer not null,
    from_state  text,
    to_state    text not null,
    payload     text not null,                   -- json
    request_id  text,                            -- the actor's idempotency key
    unique (order_id, seq),
    unique (order_id, actor_id, request_id)
) strict;
