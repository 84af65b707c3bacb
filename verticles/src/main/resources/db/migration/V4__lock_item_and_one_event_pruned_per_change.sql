-- Two changes to V3's functions. V3 itself stays as released: Flyway checks its checksum.
--
-- 1. update_work_item and delete_work_item lock and check the item through one function, lock_item, instead of
--    two copies of that code. A build released for a few hours had this inside V3; Migrations realigns such a
--    database's recorded V3 checksum before migrating, and the definitions below are the ones it already has.
--
-- 2. A project's history keeps its newest p_keep_events events. V3 removed the older ones with a range delete from
--    the project's first seq, which walked every event it had removed before, dead until vacuum: past the cap,
--    each change of a busy project cost more than the one before. Seqs are gap-free, so each change pushes exactly
--    one event out of the window: seq next_seq - p_keep_events, found by the primary key. (A cap lowered in the
--    configuration leaves the events between the old and the new cap to the pruning by age.)
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

-- Locks an item until the statement commits and returns its project: WS404 when it does not exist, WS409 when it is
-- not at p_expected_version (NULL: any version).
CREATE OR REPLACE FUNCTION lock_item(p_tenant text, p_id uuid, p_expected_version bigint) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
  item_project uuid;
  current_version bigint;
BEGIN
  SELECT project_id, version INTO item_project, current_version FROM work_items
    WHERE tenant_id = p_tenant AND id = p_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'WS404', MESSAGE = format('work item %s does not exist', p_id);
  END IF;
  IF p_expected_version IS NOT NULL AND current_version <> p_expected_version THEN
    RAISE EXCEPTION USING ERRCODE = 'WS409',
      MESSAGE = format('expected version %s but the item is at version %s', p_expected_version, current_version);
  END IF;
  RETURN item_project;
END $$;

-- Writes an update the service computed from the item at version p_expected_version, if the item is still at that
-- version. A move under a parent (p_lock_hierarchy) takes the project's hierarchy lock before the item's row lock,
-- so that moves are checked one after the other and no two of them close a cycle together; a changed parent
-- (p_check_parent) is checked under it.
CREATE OR REPLACE FUNCTION update_work_item(
  p_tenant text, p_id uuid, p_parent uuid, p_title text, p_description text, p_status smallint,
  p_priority smallint, p_assignee text, p_sprint uuid, p_story_points int, p_position bigint, p_version bigint,
  p_updated_at_ms bigint, p_updated_by text, p_expected_version bigint,
  p_user text, p_message text, p_now_ms bigint, p_fingerprint bytea,
  p_lock_hierarchy boolean, p_check_parent boolean, p_max_depth int,
  p_event bytea, p_occurred_at_ms bigint, p_reply bytea, p_keep_events bigint,
  OUT stored_reply bytea, OUT change_seq bigint, OUT change_project uuid)
LANGUAGE plpgsql AS $$
BEGIN
  stored_reply := claim_idempotency_key(p_tenant, p_user, p_message, p_now_ms, p_fingerprint);
  IF stored_reply IS NOT NULL THEN
    RETURN;
  END IF;
  IF p_lock_hierarchy THEN
    PERFORM lock_hierarchy(p_tenant, project_id) FROM work_items WHERE tenant_id = p_tenant AND id = p_id;
  END IF;
  change_project := lock_item(p_tenant, p_id, p_expected_version);
  IF p_check_parent AND p_parent IS NOT NULL THEN
    PERFORM check_parent(p_tenant, p_parent, change_project, p_id, p_max_depth);
  END IF;
  UPDATE work_items SET parent_id = p_parent, title = p_title, description = p_description, status = p_status,
      priority = p_priority, assignee_id = p_assignee, sprint_id = p_sprint, story_points = p_story_points,
      position = p_position, version = p_version, updated_at_ms = p_updated_at_ms, updated_by = p_updated_by
    WHERE tenant_id = p_tenant AND id = p_id;
  change_seq := record_change(p_tenant, change_project, p_occurred_at_ms, p_event, p_user, p_message, p_reply,
                              p_keep_events);
END $$;

-- Deletes an item without children, at p_expected_version if one is given.
CREATE OR REPLACE FUNCTION delete_work_item(
  p_tenant text, p_id uuid, p_expected_version bigint,
  p_user text, p_message text, p_now_ms bigint, p_fingerprint bytea,
  p_event bytea, p_occurred_at_ms bigint, p_reply bytea, p_keep_events bigint,
  OUT stored_reply bytea, OUT change_seq bigint, OUT change_project uuid)
LANGUAGE plpgsql AS $$
BEGIN
  stored_reply := claim_idempotency_key(p_tenant, p_user, p_message, p_now_ms, p_fingerprint);
  IF stored_reply IS NOT NULL THEN
    RETURN;
  END IF;
  change_project := lock_item(p_tenant, p_id, p_expected_version);
  IF EXISTS (SELECT 1 FROM work_items WHERE tenant_id = p_tenant AND parent_id = p_id) THEN
    RAISE EXCEPTION USING ERRCODE = 'WS423',
      MESSAGE = format('work item %s has children; delete or move them first', p_id);
  END IF;
  DELETE FROM work_items WHERE tenant_id = p_tenant AND id = p_id;
  change_seq := record_change(p_tenant, change_project, p_occurred_at_ms, p_event, p_user, p_message, p_reply,
                              p_keep_events);
END $$;
