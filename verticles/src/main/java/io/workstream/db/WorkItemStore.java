package io.workstream.db;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
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

/**
 * The work-item operations against PostgreSQL. Each mutation is one statement, a call of a database function run in
 * autocommit (one round trip, one transaction): it claims the idempotency key, checks the rules that depend on
 * other rows (parent in the same project, no children on delete, the expected version) under locks, writes the
 * row, and takes the project's next seq last, with the change-event row and the stored reply. An update is computed
 * here from the item as read just before, and written only if the item is still at that version. Creates that
 * arrive together share one transaction ({@link GroupCommit}), each with its own outcome.
 * Business outcomes fail with a {@link WorkstreamException}; anything else is a database failure.
 */
final class WorkItemStore {

  /** A committed mutation: the reply, and the event to publish (none when the reply was replayed). */
  record Committed(String tenantId, WorkItemAck ack, ChangeEvent event) {
  }

  static final int DEFAULT_PAGE_SIZE = 500;
  /** Room left in a GetWorkItems page for what is not an item: the envelope, as_of_seq, the next page token. */
  static final int LIST_ENVELOPE_BYTES = 1_024;

  private final Pool pool;
  private final DbConfig.Retention retention;
  private final int listPageBytes;
  private final int maxHierarchyDepth;
  private final GroupCommit creates;

  WorkItemStore(Pool pool, DbConfig.Retention retention, int listPageBytes, int maxHierarchyDepth,
                DbConfig.GroupCommitLimits groupCommit) {
    this.pool = pool;
    this.retention = retention;
    this.listPageBytes = listPageBytes;
    this.maxHierarchyDepth = maxHierarchyDepth;
    this.creates = new GroupCommit(pool, WorkItemSql.CREATE_ITEM, groupCommit.lanesPerTenant(),
      groupCommit.maxGroupSize());
  }

  /** How creates are grouped into transactions. */
  GroupCommit createGroups() {
    return creates;
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

  /** Creates go in groups ({@link GroupCommit}): a project's seq lock and a commit are shared by concurrent creates. */
  private Future<Committed> create(RequestContext ctx, Buffer fingerprint, WorkItem item) {
    ChangeEvent.Builder event = event(ctx, item.getUpdatedAtMs()).setCreated(item);
    WorkItemAck.Builder ack = WorkItemAck.newBuilder().setItem(item);
    Tuple params = withChange(key(WorkItemRows.insertParams(ctx.tenantId(), item), ctx, fingerprint)
      .addInteger(maxHierarchyDepth), event, ack);
    return creates.submit(ctx.tenantId(), item.getProjectId(), params).map(row -> committed(row, ctx, event, ack));
  }

  /**
   * Computes the update from the item as it is now, read together with the reply stored under the message id (a
   * replay answers before any rule is checked), and writes it only if the item is still at the version it was
   * computed from: versions only go up, so that version is also the one the request expects. An update that
   * changes nothing commits nothing and answers seq 0. A move under a parent takes its project's hierarchy lock
   * before the item's row lock, so that moves are checked one after the other and no two of them close a cycle.
   */
  private Future<Committed> update(RequestContext ctx, Buffer fingerprint, UpdateWorkItem request, long nowMs) {
    String tenantId = ctx.tenantId();
    UUID id = UUID.fromString(request.getWorkItemId());
    return pool.withConnection(conn -> Future.all(
        conn.preparedQuery(WorkItemSql.READ_ITEM).execute(Tuple.of(tenantId, id)),
        storedReply(conn, ctx, fingerprint))
      .compose(read -> {
        WorkItemAck stored = read.resultAt(1);
        if (stored != null) {
          return Future.succeededFuture(new Committed(tenantId, stored, null));
        }
        RowSet<Row> rows = read.resultAt(0);
        if (rows.size() == 0) {
          return Future.failedFuture(WorkstreamException.notFound("work item " + id + " does not exist"));
        }
        WorkItem current = WorkItemRows.fromRow(rows.iterator().next());
        if (current.getVersion() != request.getExpectedVersion()) {
          return Future.failedFuture(conflict(request.getExpectedVersion(), current.getVersion()));
        }
        WorkItems.Updated updated = WorkItems.update(ctx, request, current, nowMs);
        WorkItem item = updated.item();
        if (updated.changes().isEmpty()) {
          return Future.succeededFuture(new Committed(tenantId, WorkItemAck.newBuilder().setItem(item).setSeq(0)
            .build(), null));
        }
        boolean movesUnderParent = request.hasParentId() && !request.getParentId().isEmpty();
        boolean parentChanged = !item.getParentId().equals(current.getParentId());
        Tuple params = key(WorkItemRows.updateParams(tenantId, item, current.getVersion()), ctx, fingerprint)
          .addBoolean(movesUnderParent).addBoolean(parentChanged).addInteger(maxHierarchyDepth);
        return commit(conn, WorkItemSql.UPDATE_ITEM, params, ctx,
          event(ctx, item.getUpdatedAtMs())
            .setUpdated(WorkItemUpdated.newBuilder().setItem(item).addAllChanges(updated.changes())),
          WorkItemAck.newBuilder().setItem(item));
      }));
  }

  private Future<Committed> delete(RequestContext ctx, Buffer fingerprint, DeleteItem request) {
    String id = UUID.fromString(request.getWorkItemId()).toString();
    Tuple params = key(Tuple.tuple().addString(ctx.tenantId()).addUUID(UUID.fromString(id))
      .addLong(request.hasExpectedVersion() ? request.getExpectedVersion() : null), ctx, fingerprint);
    return pool.withConnection(conn -> commit(conn, WorkItemSql.DELETE_ITEM, params, ctx,
      event(ctx, System.currentTimeMillis()).setDeleted(WorkItemDeleted.newBuilder().setWorkItemId(id)),
      WorkItemAck.newBuilder().setDeletedId(id)));
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

  /**
   * Forgets the warm-up tenant {@code tenantId} and the warm-ups that started before {@code staleBeforeMs}; answers
   * how many items went.
   */
  Future<Long> purgeWarmups(String tenantId, long staleBeforeMs) {
    return pool.preparedQuery(WorkItemSql.PURGE_WARMUPS).execute(Tuple.of(tenantId, staleBeforeMs))
      .map(rows -> rows.iterator().next().getLong(0));
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** Adds the parameters of the request's idempotency key (no message id: none to claim). */
  private static Tuple key(Tuple params, RequestContext ctx, Buffer fingerprint) {
    return params.addString(ctx.userId()).addString(ctx.idempotent() ? ctx.messageId() : null)
      .addLong(System.currentTimeMillis()).addBuffer(fingerprint);
  }

  /**
   * Runs a mutation's statement, which commits it, with the change's parameters appended to {@code params}
   * ({@link #withChange}).
   */
  private Future<Committed> commit(SqlConnection conn, String sql, Tuple params, RequestContext ctx,
                                   ChangeEvent.Builder event, WorkItemAck.Builder ack) {
    return conn.preparedQuery(sql).execute(withChange(params, event, ack))
      .recover(failure -> Future.failedFuture(DbErrors.ofMutation(failure)))
      .map(rows -> committed(rows.iterator().next(), ctx, event, ack));
  }

  /**
   * Appends the change's parameters: the event goes without its project and seq, the ack without its seq; the
   * database appends them once it has taken the seq.
   */
  private Tuple withChange(Tuple params, ChangeEvent.Builder event, WorkItemAck.Builder ack) {
    return params.addBuffer(Buffer.buffer(event.build().toByteArray())).addLong(event.getOccurredAtMs())
      .addBuffer(Buffer.buffer(ack.build().toByteArray())).addLong((long) retention.maxEventsPerProject());
  }

  /**
   * What a mutation's statement answered: the reply stored under the message id (replayed, nothing changed) or
   * the seq and project, which complete the event to publish and the ack.
   */
  private static Committed committed(Row row, RequestContext ctx, ChangeEvent.Builder event, WorkItemAck.Builder ack) {
    Buffer stored = row.getBuffer("stored_reply");
    if (stored != null) {
      return new Committed(ctx.tenantId(), replayed(stored), null);
    }
    long seq = row.getLong("change_seq");
    return new Committed(ctx.tenantId(), ack.setSeq(seq).build(),
      event.setProjectId(row.getUUID("change_project").toString()).setSeq(seq).build());
  }

  /**
   * The reply stored under the request's message id, or a refusal when the id was first used for another request.
   */
  private Future<WorkItemAck> storedReply(SqlConnection conn, RequestContext ctx, Buffer fingerprint) {
    if (!ctx.idempotent()) {
      return Future.succeededFuture();
    }
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
        return reply == null ? null : replayed(reply);
      });
  }

  private static WorkItemAck replayed(Buffer reply) {
    try {
      return WorkItemAck.parseFrom(reply.getBytes()).toBuilder().setReplayed(true).build();
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("corrupt stored reply", e);
    }
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
