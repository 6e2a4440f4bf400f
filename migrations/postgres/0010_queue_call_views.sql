-- Full views of a queued telephone call's number (PostgreSQL).
--
-- A view recorded when a seat agent is shown the full number of the queue call they
-- are on (QueueService.ListQueueCalls / GetQueueCall) names that call by the telephony
-- layer's call id; null for views of work orders and call records.

alter table caller_data_views add column telephony_call_id text;
