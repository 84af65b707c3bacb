package io.workstream.db;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.RequestContext;
import io.workstream.bus.WorkstreamException;
import io.workstream.bus.proto.DeleteItem;
import io.workstream.bus.proto.Mutation;
import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemAck;
import io.workstream.protocol.v1.WorkItemPriority;
import io.workstream.protocol.v1.WorkItemStatus;
import io.workstream.protocol.v1.WorkItemType;
import io.workstream.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;
import static org.quicktheories.generators.SourceDSL.strings;

/**
 * The one-statement mutations of the V3 migration, through {@link WorkItemStore} against the real database: the
 * event and reply the database completes with their seq (and project) are the messages the service publishes and
 * answers; seqs stay gap-free under concurrent writers; refusals roll everything back, the idempotency claim too.
 */
class MutationStatementTest {

  static StoreFixture fixture;
  static Pool pool;
  static TestDatabase db;
  static WorkItemStore store;

  @BeforeAll
  static void connect() {
    db = TestDatabase.shared();
    fixture = StoreFixture.open(8, 2);
    pool = fixture.pool();
    store = fixture.store();
  }

  @AfterAll
  static void close() throws Exception {
    fixture.close();
  }

  @Test
  void theDatabaseEncodesFieldsAsProtobufDoes() {
    qt().withExamples(300).forAll(longs().between(0, Long.MAX_VALUE)).checkAssert(value ->
      assertArrayEquals(javaField(3, value), bytes("SELECT protobuf_int64_field(3, $1)", Tuple.of(value))));
    qt().withExamples(200).forAll(strings().allPossible().ofLengthBetween(0, 300)).checkAssert(text -> {
      // Lone surrogates are not text PostgreSQL can hold.
      String valid = new String(text.getBytes(UTF_8),
        UTF_8).replace("\0", "");
      assertArrayEquals(javaField(1, valid), bytes("SELECT protobuf_string_field(1, $1)", Tuple.of(valid)));
    });
  }

  @Test
  void storedEventsAndRepliesAreTheMessagesPublishedAndAnswered() throws Exception {
    String tenant = tenant();
    String project = UUID.randomUUID().toString();
    Request create = new Request(tenant);
    Mutation.Builder createItem = Mutation.newBuilder().setCreate(item(project, ""));
    WorkItemStore.Committed created = create.apply(createItem);
    WorkItem item = created.ack().getItem();
    WorkItemStore.Committed updated = new Request(tenant).apply(Mutation.newBuilder()
      .setUpdate(UpdateWorkItem.newBuilder().setWorkItemId(item.getId()).setExpectedVersion(1).setTitle("renamed"))
      .setNowMs(System.currentTimeMillis()));
    WorkItemStore.Committed deleted = new Request(tenant).apply(Mutation.newBuilder()
      .setDelete(DeleteItem.newBuilder().setWorkItemId(item.getId()).setExpectedVersion(2)));

    List<WorkItemStore.Committed> all = List.of(created, updated, deleted);
    for (int i = 0; i < all.size(); i++) {
      WorkItemStore.Committed change = all.get(i);
      assertEquals(i + 1, change.ack().getSeq());
      assertEquals(project, change.event().getProjectId());
      assertEquals(change.ack().getSeq(), change.event().getSeq());
      byte[] stored = bytes("SELECT event FROM change_events WHERE tenant_id = $1 AND seq = $2",
        Tuple.of(tenant, (long) i + 1));
      assertEquals(change.event(), ChangeEvent.parseFrom(stored));
    }
    // The replay is the stored reply: the ack as first answered, seq included.
    WorkItemStore.Committed replayed = create.apply(createItem);
    assertNull(replayed.event());
    assertEquals(created.ack().toBuilder().setReplayed(true).build(), replayed.ack());
  }

  @Test
  void concurrentCreatesInOneProjectGetGapFreeSeqs() throws Exception {
    String tenant = tenant();
    String project = UUID.randomUUID().toString();
    List<Future<WorkItemStore.Committed>> creates = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      creates.add(store.apply(new Request(tenant).ctx,
        Mutation.newBuilder().setCreate(item(project, "")).build()));
    }
    Future.all(creates).await(60, TimeUnit.SECONDS);
    assertEquals(LongStream.rangeClosed(1, 200).boxed().toList(),
      creates.stream().map(c -> c.result().ack().getSeq()).sorted().toList());
    for (Row row : pool.preparedQuery("SELECT seq, event FROM change_events WHERE tenant_id = $1 ORDER BY seq")
      .execute(Tuple.of(tenant)).await(10, TimeUnit.SECONDS)) {
      assertEquals(row.getLong("seq"), ChangeEvent.parseFrom(row.getBuffer("event").getBytes()).getSeq());
    }
  }

  @Test
  void aRefusalRollsBackTheClaimAndNamesItsCodeAndField() throws Exception {
    String tenant = tenant();
    String project = UUID.randomUUID().toString();
    WorkItem parent = new Request(tenant).apply(Mutation.newBuilder().setCreate(item(project, "")))
      .ack().getItem();
    WorkItem child = new Request(tenant).apply(Mutation.newBuilder()
      .setCreate(item(project, parent.getId()))).ack().getItem();

    Request delete = new Request(tenant);
    Mutation.Builder deleteParent = Mutation.newBuilder()
      .setDelete(DeleteItem.newBuilder().setWorkItemId(parent.getId()));
    assertEquals(ErrorCode.DELETE_BLOCKED, delete.refusal(deleteParent).code());
    assertEquals(ErrorCode.CONFLICT, new Request(tenant).refusal(Mutation.newBuilder()
      .setDelete(DeleteItem.newBuilder().setWorkItemId(child.getId()).setExpectedVersion(7))).code());
    WorkstreamException elsewhere = new Request(tenant).refusal(Mutation.newBuilder()
      .setCreate(item(UUID.randomUUID().toString(), parent.getId())));
    assertEquals(ErrorCode.VALIDATION_ERROR, elsewhere.code());
    assertEquals("parent_id", elsewhere.field());
    // Four levels at most: parent, child, grandchild; a fifth level is refused.
    WorkItem grandchild = new Request(tenant).apply(Mutation.newBuilder()
      .setCreate(item(project, child.getId()))).ack().getItem();
    WorkItem greatGrandchild = new Request(tenant).apply(Mutation.newBuilder()
      .setCreate(item(project, grandchild.getId()))).ack().getItem();
    WorkstreamException tooDeep = new Request(tenant).refusal(Mutation.newBuilder()
      .setCreate(item(project, greatGrandchild.getId())));
    assertEquals("the hierarchy would be more than 4 levels deep", tooDeep.getMessage());

    // Nothing of the refused delete stayed: once the children are gone, the same message id deletes the parent.
    for (WorkItem gone : List.of(greatGrandchild, grandchild, child)) {
      new Request(tenant).apply(Mutation.newBuilder()
        .setDelete(DeleteItem.newBuilder().setWorkItemId(gone.getId())));
    }
    WorkItemStore.Committed deleted = delete.apply(deleteParent);
    assertTrue(deleted.event().hasDeleted());
    assertEquals(8, deleted.ack().getSeq(), "seqs stay gap-free across refusals");
  }

  @Test
  void anUpdateWrittenAfterTheItemMovedOnIsAConflict() {
    String tenant = tenant();
    WorkItem item = new Request(tenant).apply(Mutation.newBuilder()
      .setCreate(item(UUID.randomUUID().toString(), ""))).ack().getItem();
    // What a concurrent update does between this update's read and its write: the function sees version 2.
    db.execute("UPDATE work_items SET version = 2 WHERE tenant_id = ? AND id = ?::uuid", tenant, item.getId());
    Tuple params = WorkItemRows.updateParams(tenant, item.toBuilder().setVersion(2).setTitle("late").build(), 1)
      .addString("user").addString(null).addLong(0L).addBuffer(Buffer.buffer())
      .addBoolean(false).addBoolean(false).addInteger(4)
      .addBuffer(Buffer.buffer()).addLong(0L).addBuffer(Buffer.buffer())
      .addLong(10_000L);
    Throwable failure = assertThrows(Exception.class,
      () -> pool.preparedQuery(WorkItemSql.UPDATE_ITEM).execute(params).await(10, TimeUnit.SECONDS));
    WorkstreamException conflict = assertInstanceOf(WorkstreamException.class, DbErrors.ofMutation(failure));
    assertEquals(ErrorCode.CONFLICT, conflict.code());
    assertEquals("expected version 1 but the item is at version 2", conflict.getMessage());
  }

  /** One request (one message id) of one user, applied as the DB verticle applies it. */
  private static final class Request {
    final RequestContext ctx;

    Request(String tenant) {
      ctx = new RequestContext(UUID.randomUUID().toString(), UUID.randomUUID().toString(), tenant, "user",
        Set.of(RequestContext.MEMBER));
    }

    WorkItemStore.Committed apply(Mutation.Builder mutation) {
      try {
        return store.apply(ctx, fingerprinted(mutation)).await(10, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    }

    WorkstreamException refusal(Mutation.Builder mutation) {
      Future<WorkItemStore.Committed> result = store.apply(ctx, fingerprinted(mutation));
      Throwable failure = assertThrows(Exception.class, () -> result.await(10, TimeUnit.SECONDS));
      return assertInstanceOf(WorkstreamException.class, failure instanceof ExecutionException ? failure.getCause()
        : failure);
    }

    private static Mutation fingerprinted(Mutation.Builder mutation) {
      Mutation.Builder copy = mutation.clone();
      return copy.setRequestFingerprint(ByteString.copyFrom(copy.build().toByteArray())).build();
    }
  }

  private static WorkItem item(String project, String parent) {
    long now = System.currentTimeMillis();
    return WorkItem.newBuilder().setId(UUID.randomUUID().toString()).setProjectId(project).setParentId(parent)
      .setType(WorkItemType.TASK).setTitle("t").setStatus(WorkItemStatus.BACKLOG)
      .setPriority(WorkItemPriority.MEDIUM).setPosition(now).setVersion(1).setCreatedAtMs(now).setUpdatedAtMs(now)
      .setCreatedBy("user").setUpdatedBy("user").build();
  }

  private static String tenant() {
    return "statements-" + UUID.randomUUID();
  }

  private static byte[] bytes(String sql, Tuple params) {
    try {
      return pool.preparedQuery(sql).execute(params).await(10, TimeUnit.SECONDS).iterator().next().getBuffer(0)
        .getBytes();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static byte[] javaField(int field, Object value) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      CodedOutputStream coded = CodedOutputStream.newInstance(out);
      if (value instanceof Long number) {
        coded.writeInt64(field, number);
      } else {
        coded.writeString(field, (String) value);
      }
      coded.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
