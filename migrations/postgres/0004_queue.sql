-- Seats, the live call queue and the indexes of the work-order figures (PostgreSQL).

-- One row per seat agent who ever signed in: their current presence.
create table queue_agents (
    agent_id     uuid primary key,                -- users.id
    seat         text,                            -- the console position signed in to
    skills       jsonb not null,                  -- array of lowercase names, sorted
    presence     text not null,                   -- offline | available | on_call | wrap_up | break
    break_reason text,
    since        timestamptz not null,            -- entered the current presence
    call_id      text,                            -- the call on, in wrap-up for, or rung for
    ringing      boolean not null
);

-- One row per call through the telephony layer. The caller's number is stored for the
-- agent on the call; it is never logged.
create table queue_calls (
    id            text primary key,               -- the telephony layer's call id
    caller_phone  text not null,                  -- digits only
    line          text not null,                  -- the line the call came in on
    skills        jsonb not null,
    offered_at    timestamptz not null,
    agent_id      uuid,                           -- rung or answering; last after a transfer
    answered_at   timestamptz,
    abandoned_at  timestamptz,
    ended_at      timestamptz,
    wrap_ended_at timestamptz,
    transfers     integer not null
);

-- Figures of any period: calls by offer time.
create index queue_calls_offered_idx on queue_calls (offered_at);
-- Calls still open, loaded at start with today's.
create index queue_calls_open_idx on queue_calls (offered_at)
    where abandoned_at is null and wrap_ended_at is null;

-- Every queue event as reported, oldest first (no caller numbers).
create table queue_events (
    id       bigserial primary key,
    at       timestamptz not null,
    kind     text not null,
    call_id  text,
    agent_id uuid,
    actor_id uuid,
    payload  jsonb not null
);

create index queue_events_call_idx on queue_events (call_id, id) where call_id is not null;

-- From a queue call to its intake record and orders.
create index work_orders_call_idx on work_orders (call_id) where call_id is not null;
-- Work-order figures by category over a period.
create index work_orders_category_idx on work_orders (category, created_at);
-- Work-order figures of a county or township over a period, answered from the index
-- alone (an index-only scan) rather than from scattered table pages.
create index work_orders_county_stats_idx on work_orders (county_id, created_at)
    include (township_id, assignee_id, category, state, dispatched_at, signed_off_at, sign_off_due,
             replied_at, reply_due, closed_at, callback_due, callback_at, callback_satisfaction,
             current_due, return_count, redo_count);
create index work_orders_township_stats_idx on work_orders (township_id, created_at)
    include (county_id, assignee_id, category, state, dispatched_at, signed_off_at, sign_off_due,
             replied_at, reply_due, closed_at, callback_due, callback_at, callback_satisfaction,
             current_due, return_count, redo_count);
