-- Each mutation is one statement, a call of one of the functions below, run in autocommit: the statement is the
-- transaction, so a mutation costs one round trip and holds its locks only while the server runs it and commits.
-- Each function claims the idempotency key first, checks and writes under the locks it needs, and takes the
-- project's next seq last: the project_sequences row lock, which serialises a project's writers, is held from the
-- seq upsert to the commit only.
--
-- The service encodes the ChangeEvent without project_id and seq, and the WorkItemAck without seq: the database
-- knows them last. record_change appends them as protobuf fields; a protobuf parser keeps the last occurrence of a
-- scalar field, so what is stored are the complete messages, as before.
--
-- Business refusals are errors of class WS (the SQLSTATE's last three digits follow the HTTP status they resemble);
-- their message is the client's text and COLUMN the offending field. Any error rolls the whole statement back,
-- the idempotency claim included.
--   WS404 NOT_FOUND, WS409 CONFLICT, WS423 DELETE_BLOCKED, WS422 VALIDATION_ERROR (COLUMN: the field)

-- A protobuf varint of a non-negative number.
CREATE FUNCTION protobuf_varint(value bigint) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  encoded bytea := '';
BEGIN
  IF value < 0 THEN
    RAISE EXCEPTION 'protobuf_varint: % is negative', value;
  END IF;
  WHILE value >= 128 LOOP
    encoded := encoded || set_byte('\x00'::bytea, 0, (value & 127)::int | 128);
    value := value >> 7;
  END LOOP;
  RETURN encoded || set_byte('\x00'::bytea, 0, value::int);
END $$;

-- An int64 field (wire type 0) of a protobuf message.
CREATE FUNCTION protobuf_int64_field(field int, value bigint) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT protobuf_varint(field::bigint << 3) || protobuf_varint(value)
$$;

-- A string field (wire type 2) of a protobuf message.
CREATE FUNCTION protobuf_string_field(field int, value text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT protobuf_varint(field::bigint << 3 | 2) || protobuf_varint(octet_length(convert_to(value, 'UTF8')))
    || convert_to(value, 'UTF8')
$$;

-- Claims (tenant, user, message id) for this mutation; no message id: the request is not idempotent. Returns the
-- reply stored by an earlier use of the key, or NULL: go ahead. A concurrent request with the same key waits on its
-- row until that one commits (then gets its reply) or rolls back (then goes ahead itself). A key first used for
-- another request (another fingerprint) is refused.
CREATE FUNCTION claim_idempotency_key(p_tenant text, p_user text, p_message text, p_now_ms bigint,
                                      p_fingerprint bytea) RETURNS bytea
LANGUAGE plpgsql AS $$
DECLARE
  first_use idempotency_keys%ROWTYPE;
BEGIN
  IF p_message IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO idempotency_keys (tenant_id, user_id, message_id, created_at_ms, fingerprint)
    VALUES (p_tenant, p_user, p_message, p_now_ms, p_fingerprint) ON CONFLICT DO NOTHING;
  IF FOUND THEN
    RETURN NULL;
  END IF;
  SELECT * INTO first_use FROM idempotency_keys
    WHERE tenant_id = p_tenant AND user_id = p_user AND message_id = p_message;
  IF first_use.fingerprint IS NOT NULL AND first_use.fingerprint IS DISTINCT FROM p_fingerprint THEN
    RAISE EXCEPTION USING ERRCODE = 'WS422', COLUMN = 'message_id',
      MESSAGE = 'this message_id was already used for a different request; use a new one';
  END IF;
  -- No row (pruned meanwhile) or no reply: nothing to replay, the mutation goes ahead.
  RETURN first_use.reply;
END $$;

-- A parent must exist in the item's project (locked for share, so that it is not deleted before we commit); for an
-- existing item it must not be the item or below it; and the item's subtree under it must stay within p_max_depth
-- levels. The caller holds the project's hierarchy lock.
CREATE FUNCTION check_parent(p_tenant text, p_parent uuid, p_project uuid, p_item uuid, p_max_depth int)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  parent_project uuid;
  closes_cycle boolean;
  parent_depth int;
  room int;
  height int;
BEGIN
  SELECT project_id INTO parent_project FROM work_items WHERE tenant_id = p_tenant AND id = p_parent FOR SHARE;
  IF parent_project IS DISTINCT FROM p_project THEN
    RAISE EXCEPTION USING ERRCODE = 'WS422', COLUMN = 'parent_id',
      MESSAGE = format('parent %s does not exist in project %s', p_parent, p_project);
  END IF;
  -- Walking up from the parent (at most p_max_depth + 1 levels): whether the item is the parent or one of its
  -- ancestors, and how deep the parent is.
  WITH RECURSIVE ancestors(id, parent_id, depth) AS (
    SELECT w.id, w.parent_id, 1 FROM work_items w WHERE w.tenant_id = p_tenant AND w.id = p_parent
    UNION ALL
    SELECT w.id, w.parent_id, a.depth + 1 FROM work_items w JOIN ancestors a
      ON w.tenant_id = p_tenant AND w.id = a.parent_id WHERE a.depth <= p_max_depth)
  SELECT coalesce(bool_or(a.id = p_item), false), max(a.depth) INTO closes_cycle, parent_depth FROM ancestors a;
  IF closes_cycle THEN
    RAISE EXCEPTION USING ERRCODE = 'WS422', COLUMN = 'parent_id',
      MESSAGE = 'an item cannot be its own parent or the parent of one of its ancestors';
  END IF;
  room := p_max_depth - parent_depth;
  IF room >= 1 AND p_item IS NOT NULL THEN
    -- How many levels the item's subtree has (1: no children), walking down at most room + 1 levels.
    WITH RECURSIVE below(id, level) AS (
      SELECT w.id, 1 FROM work_items w WHERE w.tenant_id = p_tenant AND w.id = p_item
      UNION ALL
      SELECT w.id, b.level + 1 FROM work_items w JOIN below b ON w.tenant_id = p_tenant AND w.parent_id = b.id
        WHERE b.level < room + 1)
    SELECT max(b.level) INTO height FROM below b;
  END IF;
  IF room < 1 OR height > room THEN
    RAISE EXCEPTION USING ERRCODE = 'WS422', COLUMN = 'parent_id',
      MESSAGE = format('the hierarchy would be more than %s levels deep', p_max_depth);
  END IF;
END $$;

-- Serialises the parent changes of one project: each checks cycles and depth against what the previous one
-- committed. Two-key advisory locks are a key space of their own (Flyway's lock uses the one-key form).
CREATE FUNCTION lock_hierarchy(p_tenant text, p_project uuid) RETURNS void
LANGUAGE sql AS $$
  SELECT pg_advisory_xact_lock(hashtext(p_tenant), hashtext(p_project::text))
$$;

-- Locks an item until the statement commits and returns its project: WS404 when it does not exist, WS409 when it is
-- not at p_expected_version (NULL: any version).
CREATE FUNCTION lock_item(p_tenant text, p_id uuid, p_expected_version bigint) RETURNS uuid
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

-- The last step of every change: takes the project's next seq, stores the event with its project and seq, keeps
-- the newest p_keep_events of the project's events, and stores the reply (with its seq) under the claimed key.
CREATE FUNCTION record_change(p_tenant text, p_project uuid, p_occurred_at_ms bigint, p_event bytea,
                              p_user text, p_message text, p_reply bytea, p_keep_events bigint) RETURNS bigint
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
      AND seq <= next_seq - p_keep_events;
  END IF;
  IF p_message IS NOT NULL THEN
    UPDATE idempotency_keys SET reply = p_reply || protobuf_int64_field(3, next_seq)
      WHERE tenant_id = p_tenant AND user_id = p_user AND message_id = p_message;
  END IF;
  RETURN next_seq;
END $$;

-- Creates an item. Returns the reply stored by an earlier use of the message id (then nothing changed), or the
-- change's seq.
CREATE FUNCTION create_work_item(
  p_tenant text, p_id uuid, p_project uuid, p_parent uuid, p_type smallint, p_title text, p_description text,
  p_status smallint, p_priority smallint, p_assignee text, p_sprint uuid, p_story_points int, p_position bigint,
  p_version bigint, p_created_at_ms bigint, p_updated_at_ms bigint, p_created_by text, p_updated_by text,
  p_user text, p_message text, p_now_ms bigint, p_fingerprint bytea, p_max_depth int,
  p_event bytea, p_occurred_at_ms bigint, p_reply bytea, p_keep_events bigint,
  OUT stored_reply bytea, OUT change_seq bigint, OUT change_project uuid)
LANGUAGE plpgsql AS $$
BEGIN
  stored_reply := claim_idempotency_key(p_tenant, p_user, p_message, p_now_ms, p_fingerprint);
  IF stored_reply IS NOT NULL THEN
    RETURN;
  END IF;
  IF p_parent IS NOT NULL THEN
    PERFORM lock_hierarchy(p_tenant, p_project);
    PERFORM check_parent(p_tenant, p_parent, p_project, NULL, p_max_depth);
  END IF;
  INSERT INTO work_items (tenant_id, id, project_id, parent_id, type, title, description, status, priority,
                          assignee_id, sprint_id, story_points, position, version, created_at_ms, updated_at_ms,
                          created_by, updated_by)
    VALUES (p_tenant, p_id, p_project, p_parent, p_type, p_title, p_description, p_status, p_priority, p_assignee,
            p_sprint, p_story_points, p_position, p_version, p_created_at_ms, p_updated_at_ms, p_created_by,
            p_updated_by);
  change_project := p_project;
  change_seq := record_change(p_tenant, p_project, p_occurred_at_ms, p_event, p_user, p_message, p_reply,
                              p_keep_events);
END $$;

-- Writes an update the service computed from the item at version p_expected_version, if the item is still at that
-- version. A move under a parent (p_lock_hierarchy) takes the project's hierarchy lock before the item's row lock,
-- so that moves are checked one after the other and no two of them close a cycle together; a changed parent
-- (p_check_parent) is checked under it.
CREATE FUNCTION update_work_item(
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
CREATE FUNCTION delete_work_item(
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
