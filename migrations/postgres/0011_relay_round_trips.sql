-- The relay's sequencing in one round trip (PostgreSQL).
--
-- What PostgresStore::sequence_events did in six statements of one transaction, as a
-- function: look for unsequenced outbox rows (and return at once when there are none:
-- the relay polls), lock the position counter, read the waiting events after the lock
-- (in PL/pgSQL each statement takes a new snapshot, so this read sees what an earlier
-- sequencer committed before releasing the lock), give them the next positions in event
-- id order, and move the counter. Returns nulls when there was nothing to sequence.
create function sequence_outbox(max_events integer, out through bigint, out n integer)
language plpgsql as $$
declare
    ids bigint[];
    last_given bigint;
begin
    if not exists (select 1 from event_outbox where position is null) then
        return;
    end if;
    select last into last_given from event_positions where id = 1 for update;
    select array_agg(event_id order by event_id) into ids
      from (select event_id from event_outbox where position is null
            order by event_id limit max_events) waiting;
    if ids is null then
        return;
    end if;
    -- Found by key (`id = any`), each at its place in the list.
    update work_order_events set position = last_given + array_position(ids, id)
     where id = any(ids);
    update event_outbox set position = last_given + array_position(ids, event_id)
     where event_id = any(ids);
    n := cardinality(ids);
    through := last_given + n;
    update event_positions set last = through where id = 1;
end
$$;
