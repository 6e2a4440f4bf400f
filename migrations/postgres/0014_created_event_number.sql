-- The creation event's payload names the order's number (PostgreSQL).
--
-- Storage assigns the number when it writes the order, after the event was drafted, and
-- fills it into the creation event's payload as it writes it. Events written without it
-- (`"number": ""`) take their order's number here.

update work_order_events e
set payload = jsonb_set(e.payload, '{number}', to_jsonb(w.number))
from work_orders w
where w.id = e.order_id and e.kind = 'created' and e.payload->>'number' = '';
