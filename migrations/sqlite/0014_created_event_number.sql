-- The creation event's payload names the order's number (SQLite).
--
-- Storage assigns the number when it writes the order, after the event was drafted, and
-- fills it into the creation event's payload as it writes it. Events written without it
-- (`"number": ""`) take their order's number here.

update work_order_events
set payload = json_set(payload, '$.number',
    (select w.number from work_orders w where w.id = work_order_events.order_id))
where kind = 'created' and json_extract(payload, '$.number') = '';
