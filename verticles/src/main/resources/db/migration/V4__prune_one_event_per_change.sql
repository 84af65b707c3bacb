-- A project's history keeps its newest p_keep_events events. V3 removed the older ones with a range delete from the
-- project's first seq, which walked every event it had removed before, dead until vacuum: past the cap, each change
-- of a busy project cost more than the one before. Seqs are gap-free, so each change pushes exactly one event out
-- of the window: seq next_seq - p_keep_events, found by the primary key. (A cap lowered in the configuration leaves
-- the events between the old and the new cap to the pruning by age.)
CREATE OR REPLACE FUNCTION record_change(p_tenant text, p_project uuid, p_occurred_at_ms bigint, p_event bytea,
                                         p_user text, p_message text, p_reply bytea, p_keep_events bigint)
RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  next_seq bigint;
BEGIN
  INSERT INTO project_sequences (tenant_id, project_id, last_seq) VALUES (p_tenant, p_project, 1)
    ON CONFLICT (tenant_id, project_id) DO UPDATE SET last_seq = project_sequences.last_seq + 1
    RETURNING last_seq INTO next_seq;
  INSERT INTO change_events (tenant_id, project_id, seq, occurred_at_ms, event)
    VALUES (p_tenant, p_project, next_seq, p_occurred_at_ms,
            p_event || protobuf_string_field(1, p_project::text) || protobuf_int64_field(2, next_seq));
  IF next_seq > p_keep_events THEN
    DELETE FROM change_events WHERE tenant_id = p_tenant AND project_id = p_project
      AND seq = next_seq - p_keep_events;
  END IF;
  IF p_message IS NOT NULL THEN
    UPDATE idempotency_keys SET reply = p_reply || protobuf_int64_field(3, next_seq)
      WHERE tenant_id = p_tenant AND user_id = p_user AND message_id = p_message;
  END IF;
  RETURN next_seq;
END $$;
