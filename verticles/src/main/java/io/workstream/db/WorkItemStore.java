package io.workstream.db;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.DatabaseException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.RequestContext;
import io.workstream.bus.WorkstreamException;
import io.workstream.protocol.PageToken;
import io.workstream.protocol.WorkItems;
import io.workstream.bus.proto.DeleteItem;
import io.workstream.bus.proto.Histories;
import io.workstream.bus.proto.History;
import io.workstream.bus.proto.HistoryCursor;
import io.workstream.bus.proto.ReadHistories;
import io.workstream.bus.proto.Mutation;
import io.workstream.bus.proto.CurrentSeqs;
import io.workstream.bus.proto.ReadCurrentSeqs;
import io.workstream.bus.proto.ReadHistory;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemAck;
import io.workstream.protocol.v1.WorkItemDeleted;
import io.workstream.protocol.v1.WorkItemList;
import io.workstream.protocol.v1.WorkItemUpdated;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;

/**
 * The work-item operations as PostgreSQL transactions. Each mutation is one transaction holding the row change,
 * the project's next seq, the change-event row and the idempotency record; rules that depend on other rows
 * (parent in the same project, no children on delete, the expected version) are checked inside it, under locks.
 * Business outcomes fail with a {@link WorkstreamException}; anything else is a database failure.
 */
final class WorkItemStore {

  /** A committed mutation: the reply, and the event to publish (none when the reply was replayed). */
  record Committed(String tenantId, WorkItemAck ack, ChangeEvent event) {
  }

  /** What a mutation changed, before it has a seq; no event: nothing changed, nothing to commit. */
  private record Change(String projectId, ChangeEvent.Builder event, WorkItemAck.Builder ack) {
    static Change none(WorkItemAck.Builder ack) {
      return new Change(null, null, ack);
    }
  }

  static final int DEFAULT_PAGE_SIZE = 500;
  /** Room left in a GetWorkItems page for what is not an item: the envelope, as_of_seq, the next page token. */
  static final int LIST_ENVELOPE_BYTES = 1_024;

  private final Pool pool;
  private final DbConfig.Retention retention;
  private final int listPageBytes;
  private final int maxHierarchyDepth;

  WorkItemStore(Pool pool, DbConfig.Retention retention, int listPageBytes, int maxHierarchyDepth) {
    this.pool = pool;
    this.retention = retention;
    this.listPageBytes = listPageBytes;
    this.maxHierarchyDepth = maxHierarchyDepth;
  }

  /** Applies a checked mutation in one transaction. */
  Future<Committed> apply(RequestContext ctx, Mutation mutation) {
    Buffer fingerprint = Buffer.buffer(mutation.getRequestFingerprint().toByteArray());
    return switch (mutation.getChangeCase()) {
      case CREATE -> create(ctx, fingerprint, mutation.getCreate());
      case UPDATE -> update(ctx, fingerprint, mutation.getUpdate(), mutation.getNowMs());
      case DELETE -> delete(ctx, fingerprint, mutation.getDelete());
      case CHANGE_NOT_SET -> Future.failedFuture(new IllegalArgumentException("a mutation without a change"));
    };
  }

  private Future<Committed> create(RequestContext ctx, Buffer fingerprint, WorkItem item) {
    String tenantId = ctx.tenantId();
    return mutate(ctx, fingerprint, conn -> (item.getParentId().isEmpty() ? Future.<Void>succeededFuture()
      : conn.preparedQuery(WorkItemSql.LOCK_HIERARCHY).execute(Tuple.of(tenantId, item.getProjectId()))
      .<Void>mapEmpty())
      .compose(v -> checkParent(conn, tenantId, item.getParentId(), item.getProjectId(), null))
      .compose(v -> conn.preparedQuery(WorkItemSql.INSERT_ITEM).execute(WorkItemRows.insertParams(ctx.tenantId(), item)))
      .map(rows -> new Change(item.getProjectId(),
        event(ctx, item.getUpdatedAtMs()).setCreated(item),
        WorkItemAck.newBuilder().setItem(item))));
  }

  /**
   * Applies a validated update to the item as it is now, under its row lock: the expected version is checked, the
   * change list computed and the parent rules re-checked inside the transaction. An update that changes nothing
   * commits nothing and answers seq 0. A move under a parent first takes its project's hierarchy lock, before the
   * item's row lock, so that moves are checked one after the other and no two of them close a cycle together.
   */
  private Future<Committed> update(RequestContext ctx, Buffer fingerprint, UpdateWorkItem request, long nowMs) {
    String tenantId = ctx.tenantId();
    UUID id = UUID.fromString(request.getWorkItemId());
    boolean movesUnderParent = request.hasParentId() && !request.getParentId().isEmpty();
    return mutate(ctx, fingerprint, conn -> (movesUnderParent
      ? conn.preparedQuery(WorkItemSql.LOCK_ITEM_HIERARCHY).execute(Tuple.of(tenantId, id)).<Void>mapEmpty()
      : Future.<Void>succeededFuture())
      .compose(v -> lock(conn, WorkItemSql.LOCK_FULL_ITEM, tenantId, id))
      .compose(row -> {
        WorkItem current = WorkItemRows.fromRow(row);
        if (current.getVersion() != request.getExpectedVersion()) {
          return Future.failedFuture(conflict(request.getExpectedVersion(), current.getVersion()));
        }
        WorkItems.Updated updated = WorkItems.update(ctx, request, current, nowMs);
        WorkItem item = updated.item();
        if (updated.changes().isEmpty()) {
          return Future.succeededFuture(Change.none(WorkItemAck.newBuilder().setItem(item).setSeq(0)));
        }
        boolean parentChanged = !item.getParentId().equals(current.getParentId());
        return (parentChanged
          ? checkParent(conn, tenantId, item.getParentId(), item.getProjectId(), item.getId())
          : Future.<Void>succeededFuture())
          .compose(v -> conn.preparedQuery(WorkItemSql.UPDATE_ITEM)
            .execute(WorkItemRows.updateParams(tenantId, item, current.getVersion())))
          .map(v -> new Change(item.getProjectId(),
            event(ctx, item.getUpdatedAtMs())
              .setUpdated(WorkItemUpdated.newBuilder().setItem(item).addAllChanges(updated.changes())),
            WorkItemAck.newBuilder().setItem(item)));
      }));
  }

  private Future<Committed> delete(RequestContext ctx, Buffer fingerprint, DeleteItem request) {
    String tenantId = ctx.tenantId();
    UUID id = UUID.fromString(request.getWorkItemId());
    return mutate(ctx, fingerprint, conn -> lock(conn, WorkItemSql.LOCK_ITEM, tenantId, id)
      .compose(row -> {
        long version = row.getLong("version");
        if (request.hasExpectedVersion() && request.getExpectedVersion() != version) {
          return Future.failedFuture(conflict(request.getExpectedVersion(), version));
        }
        String projectId = row.getUUID("project_id").toString();
        return conn.preparedQuery(WorkItemSql.HAS_CHILDREN).execute(Tuple.of(tenantId, id))
          .compose(children -> children.iterator().next().getBoolean(0)
            ? Future.failedFuture(new WorkstreamException(ErrorCode.DELETE_BLOCKED,
            "work item " + id + " has children; delete or move them first"))
            : conn.preparedQuery(WorkItemSql.DELETE_ITEM).execute(Tuple.of(tenantId, id)))
          .map(deleted -> new Change(projectId,
            event(ctx, System.currentTimeMillis()).setDeleted(WorkItemDeleted.newBuilder().setWorkItemId(id.toString())),
            WorkItemAck.newBuilder().setDeletedId(id.toString())));
      }));
  }

  /**
   * A page of a project's items and the seq the snapshot reflects, read in one consistent snapshot. A page holds at
   * most {@code limit} items and, but for a single item larger than that, at most {@code listPageBytes} encoded:
   * a reply that would be larger stops early with a {@code next_page_token}, as one at the limit does.
   */
  Future<WorkItemList> list(String tenantId, GetWorkItems request) {
    UUID projectId = UUID.fromString(request.getProjectId());
    int limit = request.getLimit() == 0 ? DEFAULT_PAGE_SIZE : request.getLimit();
    PageToken after = PageToken.decode(request.getPageToken());
    long since = request.hasUpdatedSinceMs() ? request.getUpdatedSinceMs() : Long.MIN_VALUE;
    long itemBytes = listPageBytes - LIST_ENVELOPE_BYTES;
    return pool.withConnection(conn -> conn.begin().compose(tx -> conn.query(WorkItemSql.READ_ONLY_SNAPSHOT).execute()
      .compose(v -> Future.all(
        conn.preparedQuery(WorkItemSql.CURRENT_SEQ).execute(Tuple.of(tenantId, projectId)),
        conn.preparedQuery(WorkItemSql.LIST_ITEMS)
          .execute(Tuple.of(tenantId, projectId, since, after.updatedAtMs(), after.id(), limit + 1, itemBytes))))
      .map(both -> {
        RowSet<Row> seq = both.resultAt(0);
        RowSet<Row> rows = both.resultAt(1);
        WorkItemList.Builder list = WorkItemList.newBuilder().setAsOfSeq(seq.size() == 0 ? 0 : seq.iterator().next().getLong(0));
        for (Row row : rows) {
          int count = list.getItemsCount();
          if (count == limit || count > 0 && row.getLong("page_bytes") > itemBytes) {
            WorkItem last = list.getItems(count - 1);
            list.setNextPageToken(new PageToken(last.getUpdatedAtMs(), UUID.fromString(last.getId())).encode());
            break;
          }
          list.addItems(WorkItemRows.fromRow(row));
        }
        return list.build();
      })
      .eventually(tx::commit)));
  }

  /**
   * The project's current seq and, when asked, the retained events after {@code after_seq} (up to {@code up_to_seq},
   * {@code limit} and {@code max_bytes}), or none with {@code recovered = false} when the history no longer reaches
   * back that far.
   */
  Future<History> history(String tenantId, ReadHistory request) {
    if (!request.hasAfterSeq()) {
      UUID projectId = UUID.fromString(request.getProjectId());
      return pool.preparedQuery(WorkItemSql.CURRENT_SEQ).execute(Tuple.of(tenantId, projectId))
        .map(rows -> History.newBuilder().setCurrentSeq(rows.size() == 0 ? 0 : rows.iterator().next().getLong(0))
          .build());
    }
    return histories(tenantId, ReadHistories.newBuilder()
      .addCursors(HistoryCursor.newBuilder().setProjectId(request.getProjectId()).setAfterSeq(request.getAfterSeq())
        .setUpToSeq(request.getUpToSeq()))
      .setLimitPerProject(request.getLimit())
      .setMaxBytes(request.getMaxBytes())
      .build())
      .map(all -> all.getProjects(0));
  }

  /** {@link #history} for many projects at once, in one statement: one snapshot, one round trip. */
  Future<Histories> histories(String tenantId, ReadHistories request) {
    int count = request.getCursorsCount();
    UUID[] projects = new UUID[count];
    Long[] after = new Long[count];
    Long[] upTo = new Long[count];
    for (int i = 0; i < count; i++) {
      HistoryCursor cursor = request.getCursors(i);
      projects[i] = UUID.fromString(cursor.getProjectId());
      after[i] = cursor.getAfterSeq();
      upTo[i] = cursor.getUpToSeq();
    }
    long limit = request.getLimitPerProject() > 0 ? request.getLimitPerProject() : Long.MAX_VALUE;
    long maxBytes = request.getMaxBytes() > 0 ? request.getMaxBytes() : Long.MAX_VALUE;
    Tuple params = Tuple.of(tenantId).addArrayOfUUID(projects).addArrayOfLong(after).addArrayOfLong(upTo)
      .addLong(limit).addLong(maxBytes);
    return pool.preparedQuery(WorkItemSql.READ_HISTORIES).execute(params).map(rows -> {
      List<History.Builder> histories = new ArrayList<>(count);
      for (Row row : rows) {
        int index = row.getLong("ord").intValue() - 1;
        if (index == histories.size()) {
          histories.add(History.newBuilder().setCurrentSeq(row.getLong("current_seq"))
            .setRecovered(row.getBoolean("recovered")));
        }
        Buffer event = row.getBuffer("event");
        if (event != null) {
          histories.get(index).addEvents(parseEvent(event));
        }
      }
      Histories.Builder all = Histories.newBuilder();
      histories.forEach(all::addProjects);
      return all.build();
    });
  }

  /** The current seq of each of the tenant's projects (0 for one without changes yet). */
  Future<CurrentSeqs> currentSeqs(String tenantId, ReadCurrentSeqs request) {
    UUID[] projects = request.getProjectIdsList().stream().map(UUID::fromString).toArray(UUID[]::new);
    return pool.preparedQuery(WorkItemSql.CURRENT_SEQS).execute(Tuple.of(tenantId).addArrayOfUUID(projects)).map(rows -> {
      CurrentSeqs.Builder seqs = CurrentSeqs.newBuilder();
      request.getProjectIdsList().forEach(project -> seqs.putSeqs(project, 0L));
      for (Row row : rows) {
        seqs.putSeqs(row.getUUID(0).toString(), row.getLong(1));
      }
      return seqs.build();
    });
  }

  /** What one prune run removed: the rows each of its statements deleted, per table. */
  record Pruned(List<Integer> eventBatches, List<Integer> idempotencyBatches) {
  }

  /**
   * Removes history older than its retention and idempotency records past theirs, in statements of at most
   * {@code pruneBatchSize} rows, each its own short transaction, and at most {@code pruneMaxBatches} of them per
   * table: a large backlog never holds locks or a transaction for long, and what is left goes at the next run.
   */
  Future<Pruned> pruneExpired(long nowMs) {
    return pruneInBatches(WorkItemSql.PRUNE_OLD_EVENTS, nowMs - retention.maxEventAgeMs(), new ArrayList<>())
      .compose(events -> pruneInBatches(WorkItemSql.PRUNE_IDEMPOTENCY_KEYS, nowMs - retention.idempotencyMs(),
        new ArrayList<>()).map(keys -> new Pruned(events, keys)));
  }

  private Future<List<Integer>> pruneInBatches(String sql, long olderThanMs, List<Integer> batches) {
    return pool.preparedQuery(sql).execute(Tuple.of(olderThanMs, retention.pruneBatchSize())).compose(rows -> {
      batches.add(rows.rowCount());
      return rows.rowCount() < retention.pruneBatchSize() || batches.size() >= retention.pruneMaxBatches()
        ? Future.succeededFuture(batches)
        : pruneInBatches(sql, olderThanMs, batches);
    });
  }

  // ---------------------------------------------------------------------------------------------------------------

  /**
   * Runs {@code change} in a transaction that first claims the request's idempotency key: when the key was used
   * before, nothing runs and the stored reply comes back with {@code replayed = true}.
   */
  private Future<Committed> mutate(RequestContext ctx, Buffer fingerprint,
                                   Function<SqlConnection, Future<Change>> change) {
    return pool.withConnection(conn -> conn.begin().compose(tx -> claimIdempotencyKey(conn, ctx, fingerprint)
      .compose(stored -> stored != null
        ? Future.succeededFuture(new Committed(ctx.tenantId(), stored, null))
        : change.apply(conn).compose(c -> c.event() == null
        ? Future.succeededFuture(new Committed(ctx.tenantId(), c.ack().build(), null))
        : record(conn, ctx, c)))
      .transform((committed, failure) -> finish(tx, committed, failure))));
  }

  private static Future<Committed> finish(Transaction tx, Committed committed, Throwable failure) {
    if (failure != null) {
      return tx.rollback().transform((v, ignored) -> Future.failedFuture(failure));
    }
    if (committed.event() == null) {
      return tx.rollback().transform((v, ignored) -> Future.succeededFuture(committed));
    }
    return tx.commit().transform((v, commitFailure) -> commitFailure == null
      ? Future.succeededFuture(committed)
      // The server answered: the transaction surely rolled back. No answer: it may have committed.
      : Future.failedFuture(commitFailure instanceof DatabaseException
      ? commitFailure : new DbErrors.CommitOutcomeUnknown(commitFailure)));
  }

  /** Gives the change its seq and writes the event, the retention cut and the stored reply (pipelined). */
  private Future<Committed> record(SqlConnection conn, RequestContext ctx, Change change) {
    String tenantId = ctx.tenantId();
    UUID projectId = UUID.fromString(change.projectId());
    return conn.preparedQuery(WorkItemSql.NEXT_SEQ).execute(Tuple.of(tenantId, projectId)).compose(rows -> {
      long seq = rows.iterator().next().getLong(0);
      ChangeEvent event = change.event().setProjectId(change.projectId()).setSeq(seq).build();
      WorkItemAck ack = change.ack().setSeq(seq).build();
      List<Future<?>> writes = new ArrayList<>(3);
      writes.add(conn.preparedQuery(WorkItemSql.INSERT_EVENT).execute(Tuple.of(tenantId, projectId, seq,
        event.getOccurredAtMs(), Buffer.buffer(event.toByteArray()))));
      long keepAfter = seq - retention.maxEventsPerProject();
      if (keepAfter > 0) {
        writes.add(conn.preparedQuery(WorkItemSql.PRUNE_PROJECT_EVENTS).execute(Tuple.of(tenantId, projectId, keepAfter)));
      }
      if (ctx.idempotent()) {
        writes.add(conn.preparedQuery(WorkItemSql.STORE_REPLY).execute(Tuple.of(tenantId, ctx.userId(), ctx.messageId(),
          Buffer.buffer(ack.toByteArray()))));
      }
      return Future.all(writes).map(v -> new Committed(tenantId, ack, event));
    });
  }

  /**
   * Claims the request's idempotency key inside the transaction. A concurrent request with the same key waits on
   * the row until the first commits (then gets its reply) or rolls back (then proceeds itself).
   */
  private Future<WorkItemAck> claimIdempotencyKey(SqlConnection conn, RequestContext ctx, Buffer fingerprint) {
    if (!ctx.idempotent()) {
      return Future.succeededFuture();
    }
    return conn.preparedQuery(WorkItemSql.CLAIM_IDEMPOTENCY_KEY)
      .execute(Tuple.of(ctx.tenantId(), ctx.userId(), ctx.messageId(), System.currentTimeMillis(), fingerprint))
      .compose(rows -> rows.rowCount() == 1 ? Future.succeededFuture() : storedReply(conn, ctx, fingerprint));
  }

  /**
   * The reply stored under the request's message id, or a refusal when the id was first used for another request.
   */
  private Future<WorkItemAck> storedReply(SqlConnection conn, RequestContext ctx, Buffer fingerprint) {
    return conn.preparedQuery(WorkItemSql.STORED_REPLY).execute(Tuple.of(ctx.tenantId(), ctx.userId(), ctx.messageId()))
      .map(rows -> {
        if (rows.size() == 0) {
          return null;
        }
        Row row = rows.iterator().next();
        Buffer firstUse = row.getBuffer("fingerprint");
        if (firstUse != null && !firstUse.equals(fingerprint)) {
          throw WorkstreamException.validation("message_id",
            "this message_id was already used for a different request; use a new one");
        }
        Buffer reply = row.getBuffer("reply");
        if (reply == null) {
          return null;
        }
        try {
          return WorkItemAck.parseFrom(reply.getBytes()).toBuilder().setReplayed(true).build();
        } catch (InvalidProtocolBufferException e) {
          throw new IllegalStateException("corrupt stored reply", e);
        }
      });
  }

  /** The item's row ({@code lockSql} chooses the columns), locked until the transaction ends; or NOT_FOUND. */
  private static Future<Row> lock(SqlConnection conn, String lockSql, String tenantId, UUID id) {
    return conn.preparedQuery(lockSql).execute(Tuple.of(tenantId, id)).compose(rows -> rows.size() == 0
      ? Future.failedFuture(WorkstreamException.notFound("work item " + id + " does not exist"))
      : Future.succeededFuture(rows.iterator().next()));
  }

  /**
   * A parent must exist in the item's project; for an existing item it must not be the item or below it; and the
   * item's subtree under it must stay within {@code maxHierarchyDepth} levels. Run under the hierarchy lock.
   */
  private Future<Void> checkParent(SqlConnection conn, String tenantId, String parentId, String projectId,
                                   String itemId) {
    if (parentId.isEmpty()) {
      return Future.succeededFuture();
    }
    UUID parent = UUID.fromString(parentId);
    UUID item = itemId == null ? null : UUID.fromString(itemId);
    return conn.preparedQuery(WorkItemSql.LOCK_PARENT).execute(Tuple.of(tenantId, parent)).compose(rows -> {
      if (rows.size() == 0 || !rows.iterator().next().getUUID(0).toString().equals(projectId)) {
        return Future.failedFuture(WorkstreamException.validation("parent_id",
          "parent " + parentId + " does not exist in project " + projectId));
      }
      return conn.preparedQuery(WorkItemSql.ANCESTRY).execute(Tuple.of(tenantId, parent, item, maxHierarchyDepth));
    }).compose(ancestry -> {
      Row row = ancestry.iterator().next();
      if (row.getBoolean("cycle")) {
        return Future.failedFuture(WorkstreamException.validation("parent_id",
          "an item cannot be its own parent or the parent of one of its ancestors"));
      }
      int room = maxHierarchyDepth - row.getInteger("depth");
      if (room < 1) {
        return Future.failedFuture(tooDeep());
      }
      if (item == null) {
        return Future.succeededFuture();
      }
      return conn.preparedQuery(WorkItemSql.SUBTREE_HEIGHT).execute(Tuple.of(tenantId, item, room + 1))
        .compose(height -> height.iterator().next().getInteger(0) > room
          ? Future.failedFuture(tooDeep())
          : Future.succeededFuture());
    });
  }

  private WorkstreamException tooDeep() {
    return WorkstreamException.validation("parent_id",
      "the hierarchy would be more than " + maxHierarchyDepth + " levels deep");
  }

  private static WorkstreamException conflict(long expected, long current) {
    return new WorkstreamException(ErrorCode.CONFLICT,
      "expected version " + expected + " but the item is at version " + current);
  }

  private static ChangeEvent.Builder event(RequestContext ctx, long occurredAtMs) {
    return ChangeEvent.newBuilder()
      .setActorId(ctx.userId())
      .setCorrelationId(ctx.correlationId())
      .setOccurredAtMs(occurredAtMs);
  }

  private static ChangeEvent parseEvent(Buffer bytes) {
    try {
      return ChangeEvent.parseFrom(bytes.getBytes());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt change event in the history", e);
    }
  }
}
