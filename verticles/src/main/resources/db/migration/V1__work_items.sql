-- Work items, their per-project sequence, the change history kept for recovery, and idempotency records.
-- Every table is keyed by tenant first: no query can reach a row without naming its tenant.

CREATE TABLE work_items (
  tenant_id     text     NOT NULL,
  id            uuid     NOT NULL,
  project_id    uuid     NOT NULL,
  parent_id     uuid,
  type          smallint NOT NULL,
  title         text     NOT NULL,
  description   text     NOT NULL,
  status        smallint NOT NULL,
  priority      smallint NOT NULL,
  assignee_id   text,
  sprint_id     uuid,
  story_points  integer,
  position      bigint   NOT NULL,
  version       bigint   NOT NULL,
  created_at_ms bigint   NOT NULL,
  updated_at_ms bigint   NOT NULL,
  created_by    text     NOT NULL,
  updated_by    text     NOT NULL,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, parent_id) REFERENCES work_items (tenant_id, id)
);

-- GetWorkItems pages through a project by (updated_at_ms, id).
CREATE INDEX work_items_by_project ON work_items (tenant_id, project_id, updated_at_ms, id);
-- DELETE_BLOCKED and cycle checks look children up by parent.
CREATE INDEX work_items_by_parent ON work_items (tenant_id, parent_id) WHERE parent_id IS NOT NULL;

-- The last seq given out per project; its row lock serialises a project's writers, so seqs are gap-free.
CREATE TABLE project_sequences (
  tenant_id  text   NOT NULL,
  project_id uuid   NOT NULL,
  last_seq   bigint NOT NULL,
  PRIMARY KEY (tenant_id, project_id)
);

-- Committed changes as encoded ChangeEvents, for Subscribe{after_seq} and gap filling.
CREATE TABLE change_events (
  tenant_id      text   NOT NULL,
  project_id     uuid   NOT NULL,
  seq            bigint NOT NULL,
  occurred_at_ms bigint NOT NULL,
  event          bytea  NOT NULL,
  PRIMARY KEY (tenant_id, project_id, seq)
);
CREATE INDEX change_events_by_age ON change_events (occurred_at_ms);

-- (tenant, user, message_id) -> the encoded WorkItemAck of the mutation it made.
CREATE TABLE idempotency_keys (
  tenant_id     text   NOT NULL,
  user_id       text   NOT NULL,
  message_id    text   NOT NULL,
  created_at_ms bigint NOT NULL,
  reply         bytea,
  PRIMARY KEY (tenant_id, user_id, message_id)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at_ms);
