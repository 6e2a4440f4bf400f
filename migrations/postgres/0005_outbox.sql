-- The transactional outbox behind WatchWorkOrders (PostgreSQL).
--
-- Every command writes its events and one outbox row per event in its own transaction.
-- A relay (one instance at a time) gives committed events their `position`, a gapless
-- number in the order the relay saw them commit, and publishes them to the event bus.
-- Watchers resume and catch up by position, never by id: ids are handed out when a
-- transaction inserts, not when it commits.

alter table work_order_events add column position bigint;
-- The order as the event left it, and the assignee before it, so a watch filter
-- matches an event by its own row (a counsel sees the event that took an order away).
alter table work_order_events add column county_id text;
alter table work_order_events add column township_id text;
alter table work_order_events add column village_id text;
alter table work_order_events add column handling_unit_id text;
alter table work_order_events add column assignee_id text;
alter table work_order_events add column assignee_before text;

create unique index work_order_events_position_idx on work_order_events (position)
    where position is not null;

-- Events not yet published. `position` is set when the relay sequences the event; the
-- row is deleted once the event is on the bus.
create table event_outbox (
    event_id    bigint primary key references work_order_events (id),
    position    bigint
);

create index event_outbox_unsequenced_idx on event_outbox (event_id) where position is null;
create index event_outbox_sequenced_idx on event_outbox (position) where position is not null;

-- One row: the last position given out, and the last position published to the bus.
create table event_positions (
    id          integer primary key check (id = 1),
    last        bigint not null,
    published   bigint not null
);

-- Events written before the outbox existed: positioned in id order (ids followed
-- commit order then), with today's snapshot of their order, and counted as published.
update work_order_events e
   set position = e.id,
       county_id = o.county_id,
       township_id = o.township_id,
       village_id = o.village_id,
       handling_unit_id = o.handling_unit_id,
       assignee_id = o.assignee_id
  from work_orders o
 where o.id = e.order_id;

insert into event_positions (id, last, published)
select 1, coalesce(max(position), 0), coalesce(max(position), 0) from work_order_events;
