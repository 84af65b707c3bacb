package io.workstream.db;

import io.workstream.bus.ReservedTenants;

/** Every SQL statement Workstream runs. Tenant is always {@code $1}. */
final class WorkItemSql {

  private WorkItemSql() {
  }

  static final String COLUMNS = "id, project_id, parent_id, type, title, description, status, priority, assignee_id, "
    + "sprint_id, story_points, position, version, created_at_ms, updated_at_ms, created_by, updated_by";

  /** The whole item, as committed: an update is computed from it (and written only if it is still at that version). */
  static final String READ_ITEM = "SELECT " + COLUMNS + " FROM work_items WHERE tenant_id = $1 AND id = $2";

  /**
   * The mutations, one statement each: functions of the V3 migration, run in autocommit, so that a mutation is one
   * round trip and one transaction. Parameters: the item's ({@link WorkItemRows}), the request's idempotency key,
   * the checks', then the change's (event and reply without their seq); see {@code WorkItemStore}. One row: the
   * reply stored by an earlier use of the message id (nothing changed), or the change's seq and project.
   */
  static final String CREATE_ITEM = call("create_work_item", 27);

  static final String UPDATE_ITEM = call("update_work_item", 26);

  static final String DELETE_ITEM = call("delete_work_item", 11);

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

  static final String CURRENT_SEQ = "SELECT last_seq FROM project_sequences WHERE tenant_id = $1 AND project_id = $2";

  static final String CURRENT_SEQS = "SELECT project_id, last_seq FROM project_sequences WHERE tenant_id = $1 "
    + "AND project_id = ANY($2)";

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

  /** At most $2 of the events older than $1, oldest first: one short statement of a prune run. */
  static final String PRUNE_OLD_EVENTS = "DELETE FROM change_events WHERE (tenant_id, project_id, seq) IN ("
    + "SELECT tenant_id, project_id, seq FROM change_events WHERE occurred_at_ms < $1 ORDER BY occurred_at_ms LIMIT $2)";

  static final String STORED_REPLY = "SELECT reply, fingerprint FROM idempotency_keys WHERE tenant_id = $1 "
    + "AND user_id = $2 AND message_id = $3";

  /** At most $2 of the idempotency records older than $1, oldest first. */
  static final String PRUNE_IDEMPOTENCY_KEYS = "DELETE FROM idempotency_keys WHERE (tenant_id, user_id, message_id) IN ("
    + "SELECT tenant_id, user_id, message_id FROM idempotency_keys WHERE created_at_ms < $1 ORDER BY created_at_ms "
    + "LIMIT $2)";

  /**
   * Everything of the warm-up tenant $1, and of warm-up tenants that started before $2 (their node died before it
   * cleaned up): items, events, idempotency records and seqs, in one transaction. Answers the items removed.
   */
  static final String PURGE_WARMUPS = "WITH doomed AS (SELECT $1::text AS tenant_id UNION SELECT tenant_id"
    + " FROM project_sequences WHERE starts_with(tenant_id, '" + ReservedTenants.WARMUP_PREFIX + "')"
    + " AND substring(tenant_id FROM '^" + ReservedTenants.WARMUP_PREFIX.replace(".", "\\.")
    + "([0-9]{1,15})\\.')::bigint < $2),"
    + " items AS (DELETE FROM work_items WHERE tenant_id IN (SELECT tenant_id FROM doomed) RETURNING 1),"
    + " events AS (DELETE FROM change_events WHERE tenant_id IN (SELECT tenant_id FROM doomed)),"
    + " replies AS (DELETE FROM idempotency_keys WHERE tenant_id IN (SELECT tenant_id FROM doomed)),"
    + " seqs AS (DELETE FROM project_sequences WHERE tenant_id IN (SELECT tenant_id FROM doomed))"
    + " SELECT count(*) FROM items";

  static final String READ_ONLY_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";

  /** {@code SELECT stored_reply, change_seq, change_project FROM function($1, …, $arity)}. */
  private static String call(String function, int arity) {
    StringBuilder sql = new StringBuilder("SELECT stored_reply, change_seq, change_project FROM ").append(function)
      .append('(');
    for (int i = 1; i <= arity; i++) {
      sql.append(i == 1 ? "$" : ", $").append(i);
    }
    return sql.append(')').toString();
  }
}
