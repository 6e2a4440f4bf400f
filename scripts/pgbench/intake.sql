-- The raw limit of taking in one matter on PostgreSQL, for pgbench (-M prepared): the
-- same statements, tables and indexes as RecordCall then CreateWorkOrder with dispatch
-- (and as `hotline-loadgen --raw`): the call row and its request id in one statement; then
-- the day's counter, the order row, its two events (created, dispatched), their outbox
-- rows and the order's request id in a second statement, each its own transaction, the
-- shape the server sends
-- (PostgresStore::insert_order). Nothing of the server's parsing, rules, reads, routing
-- or gRPC. One pgbench transaction = one intake.
\set n random(1, 99999999)
WITH c AS (INSERT INTO calls (id, channel, call_time, agent_id, caller_name, caller_phone,
    caller_anonymous, caller_confidential, county_id, township_id, village_id, category, subcategory,
    urgency, summary, created_at, caller_phone_hash)
  VALUES (gen_random_uuid(), 'phone', now(), '00000000-0000-0000-0000-000000000000', '来电人',
    '139' || lpad(:n::text, 8, '0'), false, false, 'C', 'T', 'V', 'mediation', 'neighbour_dispute',
    'normal', '邻居盖房占了我家宅基地，想请村里调解', now(), md5(:n::text) || md5(:n::text))
  RETURNING id),
  r AS (INSERT INTO request_ids (user_id, request_id, fingerprint, call_id)
  SELECT '00000000-0000-0000-0000-000000000000', gen_random_uuid()::text, sha256(id::text::bytea), id FROM c)
SELECT id AS call_id FROM c \gset
WITH c AS (INSERT INTO order_counters (day, value) VALUES (to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD'), 1)
    ON CONFLICT (day) DO UPDATE SET value = order_counters.value + 1 RETURNING day, value),
  o AS (INSERT INTO work_orders (id, number, version, state, call_id, channel, caller_name, caller_phone,
    caller_anonymous, caller_confidential, county_id, township_id, village_id, category, subcategory,
    urgency, complex, description, handling_unit_id, assignee_id, dispatch_due, sign_off_due,
    current_due, dispatched_at, return_count, extension_count, redo_count, dissatisfied_count,
    created_by, created_at, updated_at, caller_phone_hash)
  SELECT gen_random_uuid(), 'GD' || c.day || lpad(c.value::text, 6, '0'), 2, 'awaiting_sign_off', :call_id::uuid,
    'phone', '来电人', '139' || lpad(:n::text, 8, '0'), false, false, 'C', 'T', 'V', 'mediation',
    'neighbour_dispute', 'normal', false, '邻居盖房占了我家宅基地，想请村里调解', 'V', 'P', now(), now(),
    now(), now(), 0, 0, 0, 0, '00000000-0000-0000-0000-000000000000', now(), now(),
    md5(:n::text) || md5(:n::text) FROM c
  RETURNING id),
  r AS (INSERT INTO request_ids (user_id, request_id, fingerprint, order_id)
  SELECT '00000000-0000-0000-0000-000000000000', gen_random_uuid()::text, sha256(id::text::bytea), id FROM o),
  e AS (INSERT INTO work_order_events (order_id, seq, kind, actor_id, actor_role, at, from_state,
    to_state, payload, county_id, township_id, village_id, handling_unit_id, assignee_id)
  SELECT o.id, v.seq, v.kind, '00000000-0000-0000-0000-000000000000', 'seat_agent', now(), v.from_state,
    v.to_state, '{"target":{"unit_id":"V","assignee_id":"P"}}', 'C', 'T', 'V', 'V', 'P'
  FROM o, (VALUES (1, 'created', NULL, 'registered'),
    (2, 'dispatched', 'registered', 'awaiting_sign_off')) AS v(seq, kind, from_state, to_state)
  ORDER BY v.seq
  RETURNING id)
INSERT INTO event_outbox (event_id) SELECT id FROM e;
