-- The transactional outbox behind WatchWorkOrders (SQLite).
--
-- Every command writes its events and one outbox row per event in its own transaction.
-- The relay gives committed events their `position`, a gapless number in the order it
-- saw them commit, and publishes them to the event bus. Watchers resume and catch up by
-- position.

alter table work_order_events add column position integer;
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
    event_id    integer primary key references work_order_events (id),
    position    integer
) strict;

create index event_outbox_sequenced_idx on event_outbox (position) where position is not null;

-- One row: the last position given out, and the last position published to the bus.
create table event_positions (
    id          integer primary key check (id = 1),
    last        integer not null,
    published   integer not null
) strict;

-- Events written before the outbox existed: positioned in id order (the commit order
-- under SQLite's single writer), with today's snapshot of their order, and counted as
-- published.
update work_order_events
   set position = id,
       county_id = (select o.county_id from work_orders o where o.id = work_order_events.order_id),
       township_id = (select o.township_id from work_orders o where o.id = work_order_events.order_id),
       village_id = (select o.village_id from work_orders o where o.id = work_order_events.order_id),
       handling_unit_id = (select o.handling_unit_id from work_orders o where o.id = work_order_events.order_id),
       assignee_id = (select o.assignee_id from work_orders o where o.id = work_order_events.order_id);

insert into event_positions (id, last, published)
select 1, coalesce(max(position), 0), coalesce(max(position), 0) from work_order_events;
