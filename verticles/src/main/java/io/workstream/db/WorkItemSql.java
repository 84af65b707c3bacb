package io.workstream.db;

/** Every SQL statement Workstream runs. Tenant is always {@code $1}. */
final class WorkItemSql {

  private WorkItemSql() {
  }

  static final String COLUMNS = "id, project_id, parent_id, type, title, description, status, priority, assignee_id, "
    + "sprint_id, story_points, position, version, created_at_ms, updated_at_ms, created_by, updated_by";

  /** The whole item, locked until the transaction ends: an update is computed from it. */
  static final String LOCK_FULL_ITEM = "SELECT " + COLUMNS + " FROM work_items WHERE tenant_id = $1 AND id = $2 "
    + "FOR UPDATE";

  static final String INSERT_ITEM = "INSERT INTO work_items (tenant_id, " + COLUMNS + ") "
    + "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";

  /** Compare-and-set on the version the change was computed from (locked, so it holds; kept as a guard). */
  static final String UPDATE_ITEM = "UPDATE work_items SET parent_id = $3, title = $4, description = $5, status = $6, "
    + "priority = $7, assignee_id = $8, sprint_id = $9, story_points = $10, position = $11, version = $12, "
    + "updated_at_ms = $13, updated_by = $14 WHERE tenant_id = $1 AND id = $2 AND version = $15";

  static final String LOCK_ITEM = "SELECT project_id, version FROM work_items WHERE tenant_id = $1 AND id = $2 "
    + "FOR UPDATE";

  /** A parent must exist in the project; the share lock keeps a concurrent delete of it out until we commit. */
  static final String LOCK_PARENT = "SELECT project_id FROM work_items WHERE tenant_id = $1 AND id = $2 FOR SHARE";

  /**
   * Serialises the parent changes of one project (taken before any row lock, only by creates and updates that name
   * a parent): each checks cycles and depth against what the previous one committed. Two-key advisory locks are a
   * key space of their own (Flyway's lock uses the one-key form).
   */
  static final String LOCK_HIERARCHY = "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))";

  /** The same lock, for an existing item's project (none when the item does not exist: the row lock says so). */
  static final String LOCK_ITEM_HIERARCHY = "SELECT pg_advisory_xact_lock(hashtext($1), hashtext(project_id::text)) "
    + "FROM work_items WHERE tenant_id = $1 AND id = $2";

  /**
   * Walking up from $2 (at most $4 + 1 levels): whether $3 is $2 or one of its ancestors (making $2 the parent of
   * $3 would close a cycle), and how many levels $2 is deep.
   */
  static final String ANCESTRY = "WITH RECURSIVE ancestors(id, parent_id, depth) AS ("
    + " SELECT id, parent_id, 1 FROM work_items WHERE tenant_id = $1 AND id = $2"
    + " UNION ALL SELECT w.id, w.parent_id, a.depth + 1 FROM work_items w JOIN ancestors a"
    + "   ON w.tenant_id = $1 AND w.id = a.parent_id WHERE a.depth <= $4)"
    + " SELECT coalesce(bool_or(id = $3), false) AS cycle, max(depth) AS depth FROM ancestors";

  /** How many levels the subtree under $2 has (1: no children), walking down at most $3 levels. */
  static final String SUBTREE_HEIGHT = "WITH RECURSIVE below(id, level) AS ("
    + " SELECT id, 1 FROM work_items WHERE tenant_id = $1 AND id = $2"
    + " UNION ALL SELECT w.id, b.level + 1 FROM work_items w JOIN below b ON w.tenant_id = $1 AND w.parent_id = b.id"
    + "   WHERE b.level < $3)"
    + " SELECT max(level) FROM below";

  static final String HAS_CHILDREN = "SELECT EXISTS (SELECT 1 FROM work_items WHERE tenant_id = $1 AND parent_id = $2)";

  static final String DELETE_ITEM = "DELETE FROM work_items WHERE tenant_id = $1 AND id = $2";

  /**
   * At least the encoded size of an item in a WorkItemList (its text fields, plus what its ids, numbers, tags and
   * lengths take at most), computed from the row's lengths without reading the text itself.
   */
  private static final String ITEM_BYTES = "(octet_length(title) + octet_length(description) "
    + "+ octet_length(coalesce(assignee_id, '')) + octet_length(created_by) + octet_length(updated_by) + 320)";

  /**
   * Page of a project ordered by (updated_at_ms, id), after the cursor $4/$5: at most $6 rows, and only those that
   * start within $7 bytes ({@code page_bytes}, the running size up to and including the row). The first row that
   * ends past $7 comes too, so the reader knows another page follows.
   */
  static final String LIST_ITEMS = "SELECT " + COLUMNS + ", page_bytes FROM (SELECT " + COLUMNS + ", "
    + ITEM_BYTES + " AS item_bytes, sum(" + ITEM_BYTES + ") OVER (ORDER BY updated_at_ms, id ROWS UNBOUNDED PRECEDING)"
    + " AS page_bytes FROM work_items WHERE tenant_id = $1 AND project_id = $2 AND updated_at_ms >= $3 "
    + "AND (updated_at_ms, id) > ($4, $5) ORDER BY updated_at_ms, id LIMIT $6) page "
    + "WHERE page_bytes - item_bytes <= $7 ORDER BY updated_at_ms, id";

  static final String NEXT_SEQ = "INSERT INTO project_sequences (tenant_id, project_id, last_seq) VALUES ($1, $2, 1) "
    + "ON CONFLICT (tenant_id, project_id) DO UPDATE SET last_seq = project_sequences.last_seq + 1 RETURNING last_seq";

  static final String CURRENT_SEQ = "SELECT last_seq FROM project_sequences WHERE tenant_id = $1 AND project_id = $2";

  static final String CURRENT_SEQS = "SELECT project_id, last_seq FROM project_sequences WHERE tenant_id = $1 "
    + "AND project_id = ANY($2)";

  static final String INSERT_EVENT = "INSERT INTO change_events (tenant_id, project_id, seq, occurred_at_ms, event) "
    + "VALUES ($1, $2, $3, $4, $5)";

  /**
   * The history of many projects in one statement (one snapshot). Cursors are the arrays $2 (project), $3
   * (after_seq), $4 (up_to_seq, 0: the current seq), in order; one row per cursor without events, or one per event:
   * at most $5 per project, and only while the events so far (in cursor order, then seq) take at most $6 bytes —
   * but always the first. {@code recovered}: the retained history reaches the cursor.
   */
  static final String READ_HISTORIES = "WITH cursors AS ("
    + " SELECT c.ord, c.project_id, c.after_seq, coalesce(s.last_seq, 0) AS current_seq,"
    + "  CASE WHEN c.up_to_seq > 0 THEN least(c.up_to_seq, coalesce(s.last_seq, 0)) ELSE coalesce(s.last_seq, 0) END"
    + "  AS up_to_seq"
    + " FROM unnest($2::uuid[], $3::int8[], $4::int8[]) WITH ORDINALITY AS c(project_id, after_seq, up_to_seq, ord)"
    + " LEFT JOIN project_sequences s ON s.tenant_id = $1 AND s.project_id = c.project_id),"
    + " states AS (SELECT c.*, c.after_seq <= c.current_seq AND (c.after_seq >= c.up_to_seq OR EXISTS ("
    + "  SELECT 1 FROM change_events x WHERE x.tenant_id = $1 AND x.project_id = c.project_id"
    + "  AND x.seq = c.after_seq + 1)) AS recovered FROM cursors c),"
    + " events AS (SELECT s.ord, e.seq, e.event, octet_length(e.event) AS event_bytes,"
    + "  sum(octet_length(e.event)) OVER (ORDER BY s.ord, e.seq ROWS UNBOUNDED PRECEDING) AS page_bytes"
    + "  FROM states s CROSS JOIN LATERAL (SELECT seq, event FROM change_events e WHERE e.tenant_id = $1"
    + "   AND e.project_id = s.project_id AND e.seq > s.after_seq AND e.seq <= s.up_to_seq ORDER BY e.seq LIMIT $5) e"
    + "  WHERE s.recovered)"
    + " SELECT s.ord, s.current_seq, s.recovered, e.seq, e.event FROM states s LEFT JOIN events e ON e.ord = s.ord"
    + " AND (e.page_bytes <= $6 OR e.page_bytes = e.event_bytes) ORDER BY s.ord, e.seq";

  /** Keeps the newest events of a project: removes those at or below $3. */
  static final String PRUNE_PROJECT_EVENTS = "DELETE FROM change_events WHERE tenant_id = $1 AND project_id = $2 "
    + "AND seq <= $3";

  /** At most $2 of the events older than $1, oldest first: one short statement of a prune run. */
  static final String PRUNE_OLD_EVENTS = "DELETE FROM change_events WHERE (tenant_id, project_id, seq) IN ("
    + "SELECT tenant_id, project_id, seq FROM change_events WHERE occurred_at_ms < $1 ORDER BY occurred_at_ms LIMIT $2)";

  static final String CLAIM_IDEMPOTENCY_KEY = "INSERT INTO idempotency_keys (tenant_id, user_id, message_id, "
    + "created_at_ms, fingerprint) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

  static final String STORED_REPLY = "SELECT reply, fingerprint FROM idempotency_keys WHERE tenant_id = $1 "
    + "AND user_id = $2 AND message_id = $3";

  static final String STORE_REPLY = "UPDATE idempotency_keys SET reply = $4 WHERE tenant_id = $1 AND user_id = $2 "
    + "AND message_id = $3";

  /** At most $2 of the idempotency records older than $1, oldest first. */
  static final String PRUNE_IDEMPOTENCY_KEYS = "DELETE FROM idempotency_keys WHERE (tenant_id, user_id, message_id) IN ("
    + "SELECT tenant_id, user_id, message_id FROM idempotency_keys WHERE created_at_ms < $1 ORDER BY created_at_ms "
    + "LIMIT $2)";

  static final String READ_ONLY_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
}
