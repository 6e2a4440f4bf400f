-- Seats, the live call queue and the indexes of the work-order figures (SQLite).
-- Instants are integer microseconds (UTC), as in 0001.

-- One row per seat agent who ever signed in: their current presence.
create table queue_agents (
    agent_id     text not null primary key,      -- users.id
    seat         text,                            -- the console position signed in to
    skills       text not null,                   -- json array of lowercase names, sorted
    presence     text not null,                   -- offline | available | on_call | wrap_up | break
    break_reason text,
    since        integer not null,                -- entered the current presence
    call_id      text,                            -- the call on, in wrap-up for, or rung for
    ringing      integer not null
) strict;

-- One row per call through the telephony layer. The caller's number is stored for the
-- agent on the call; it is never logged.
create table queue_calls (
    id            text not null primary key,      -- the telephony layer's call id
    caller_phone  text not null,                  -- digits only
    line          text not null,                  -- the line the call came in on
    skills        text not null,                  -- json array
    offered_at    integer not null,
    agent_id      text,                           -- rung or answering; last after a transfer
    answered_at   integer,
    abandoned_at  integer,
    ended_at      integer,
    wrap_ended_at integer,
    transfers     integer not null
) strict;

-- Figures of any period: calls by offer time.
create index queue_calls_offered_idx on queue_calls (offered_at);
-- Calls still open, loaded at start with today's.
create index queue_calls_open_idx on queue_calls (offered_at)
    where abandoned_at is null and wrap_ended_at is null;

-- Every queue event as reported, oldest first (no caller numbers).
create table queue_events (
    id       integer primary key autoincrement,
    at       integer not null,
    kind     text not null,
    call_id  text,
    agent_id text,
    actor_id text,
    payload  text not null                        -- json
) strict;

create index queue_events_call_idx on queue_events (call_id, id) where call_id is not null;

-- From a queue call to its intake record and orders.
create index work_orders_call_idx on work_orders (call_id) where call_id is not null;
-- Work-order figures by category over a period.
create index work_orders_category_idx on work_orders (category, created_at);
