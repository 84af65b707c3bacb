package io.workstream.db;

import com.google.protobuf.ByteString;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.RequestContext;
import io.workstream.bus.WorkstreamException;
import io.workstream.bus.proto.Mutation;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemPriority;
import io.workstream.protocol.v1.WorkItemStatus;
import io.workstream.protocol.v1.WorkItemType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * {@link GroupCommit} against the real database: creates that wait behind a tenant's group in flight commit together
 * as one transaction, and each gets exactly the outcome it would have had alone, refusals and replays included; one
 * tenant's waiting creates never hold another's.
 *
 * <p>Groups are made deterministic by holding the first create of a tenant inside PostgreSQL (its project's seq row
 * locked by another transaction): with one lane per tenant, every create submitted meanwhile waits, and all of them
 * go as the next group once the lock is released.
 */
class GroupCommitTest {

  static StoreFixture fixture;
  static Pool pool;
  static WorkItemStore store;

  @BeforeAll
  static void connect() {
    fixture = StoreFixture.open(4, 1);
    pool = fixture.pool();
    store = fixture.store();
  }

  @AfterAll
  static void close() throws Exception {
    fixture.close();
  }

  /** What a create of the scenario is: its outcome alone follows from it. */
  private enum Kind { NEW, BAD_PARENT, RESEND, REUSED_ID }

  private record Create(Kind kind, int project, RequestContext ctx, Mutation mutation, int original) {
  }

  @Test
  void waitingCreatesCommitAsOneGroupAndEachGetsItsOutcomeAlone() {
    qt().withExamples(60).withShrinkCycles(0).forAll(longs().all(), integers().between(2, 30))
      .checkAssert(this::scenario);
  }

  private void scenario(long seed, int count) {
    Random random = new Random(seed);
    String tenant = "groups-" + UUID.randomUUID();
    List<String> projects = List.of(newId(), newId(), newId());
    List<Create> creates = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      List<Integer> earlierNew = new ArrayList<>();
      for (int j = 0; j < i; j++) {
        if (creates.get(j).kind == Kind.NEW) {
          earlierNew.add(j);
        }
      }
      Kind kind = Kind.values()[random.nextInt(earlierNew.isEmpty() ? 2 : 4)];
      int project = random.nextInt(projects.size());
      Create create = switch (kind) {
        case NEW -> new Create(kind, project, context(tenant), mutation(item(projects.get(project), "")), -1);
        case BAD_PARENT -> new Create(kind, project, context(tenant),
          mutation(item(projects.get(project), newId())), -1);
        case RESEND, REUSED_ID -> {
          Create original = creates.get(earlierNew.get(random.nextInt(earlierNew.size())));
          // The same message id again, in the original's project: the same request, or another one.
          Mutation mutation = kind == Kind.RESEND ? original.mutation
            : mutation(item(projects.get(original.project), ""));
          yield new Create(kind, original.project, original.ctx, mutation, creates.indexOf(original));
        }
      };
      creates.add(create);
    }

    long groupsBefore = store.createGroups().groups();
    long callsBefore = store.createGroups().groupedCalls();
    long rerunsBefore = store.createGroups().rerunGroups();
    List<Future<WorkItemStore.Committed>> answers = whileTheTenantIsHeld(tenant, () -> {
      List<Future<WorkItemStore.Committed>> submitted = new ArrayList<>();
      creates.forEach(create -> submitted.add(store.apply(create.ctx, create.mutation)));
      return submitted;
    });

    boolean anyRefused = creates.stream().anyMatch(c -> c.kind == Kind.BAD_PARENT || c.kind == Kind.REUSED_ID);
    assertEquals(groupsBefore + 1, store.createGroups().groups(), "the waiting creates went as one group");
    assertEquals(callsBefore + count, store.createGroups().groupedCalls());
    assertEquals(rerunsBefore + (anyRefused ? 1 : 0), store.createGroups().rerunGroups());

    Map<Integer, Long> seqs = new HashMap<>();
    for (int i = 0; i < count; i++) {
      Create create = creates.get(i);
      Future<WorkItemStore.Committed> answer = answers.get(i);
      switch (create.kind) {
        case NEW -> {
          WorkItemStore.Committed committed = answer.result();
          long expected = seqs.merge(create.project, 1L, Long::sum);
          assertEquals(expected, committed.ack().getSeq(), "a project's creates take its seqs in arrival order");
          assertEquals(expected, committed.event().getSeq());
          assertEquals(projects.get(create.project), committed.event().getProjectId());
        }
        case BAD_PARENT -> assertEquals("parent_id", refusal(answer).field());
        case RESEND -> {
          WorkItemStore.Committed replayed = answer.result();
          assertEquals(answers.get(create.original).result().ack().toBuilder().setReplayed(true).build(),
            replayed.ack());
          assertNull(replayed.event());
        }
        case REUSED_ID -> assertEquals("message_id", refusal(answer).field());
      }
    }
    for (int p = 0; p < projects.size(); p++) {
      long events = count("SELECT count(*) FROM change_events WHERE tenant_id = $1 AND project_id = $2::uuid",
        Tuple.of(tenant, projects.get(p)));
      assertEquals(seqs.getOrDefault(p, 0L), events, "nothing of a refused create stayed");
    }
  }

  @Test
  void aTenantsWaitingCreatesDoNotHoldAnothers() {
    String held = "groups-" + UUID.randomUUID();
    String other = "groups-" + UUID.randomUUID();
    List<Future<WorkItemStore.Committed>> answers = whileTheTenantIsHeld(held, () -> {
      Future<WorkItemStore.Committed> waiting = store.apply(context(held), mutation(item(newId(), "")));
      WorkItemStore.Committed free = await(store.apply(context(other), mutation(item(newId(), ""))));
      assertEquals(1, free.ack().getSeq());
      assertFalse(waiting.isComplete(), "the held tenant's create waits for its lane");
      return List.of(waiting);
    });
    assertEquals(1, answers.get(0).result().ack().getSeq());
  }

  /**
   * Holds {@code tenant}'s only lane: a first create whose project's seq row another transaction has locked. Runs
   * {@code whileHeld}, then releases the lock and waits for every answer (and the first create's).
   */
  private static List<Future<WorkItemStore.Committed>> whileTheTenantIsHeld(
    String tenant, java.util.function.Supplier<List<Future<WorkItemStore.Committed>>> whileHeld) {
    String heldProject = newId();
    await(store.apply(context(tenant), mutation(item(heldProject, ""))));
    SqlConnection blocker = await(pool.getConnection());
    try {
      Transaction tx = await(blocker.begin());
      await(blocker.preparedQuery("SELECT 1 FROM project_sequences WHERE tenant_id = $1 AND project_id = $2::uuid "
        + "FOR UPDATE").execute(Tuple.of(tenant, heldProject)));
      Future<WorkItemStore.Committed> first = store.apply(context(tenant), mutation(item(heldProject, "")));
      List<Future<WorkItemStore.Committed>> answers = whileHeld.get();
      assertFalse(first.isComplete(), "the first create is held");
      await(tx.commit());
      assertEquals(2, await(first).ack().getSeq());
      // Every answer, refusals included.
      Future.join(answers).transform(done -> Future.succeededFuture()).await(30, TimeUnit.SECONDS);
      return answers;
    } catch (Exception e) {
      throw new AssertionError(e);
    } finally {
      blocker.close();
    }
  }

  private static WorkstreamException refusal(Future<WorkItemStore.Committed> answer) {
    assertTrue(answer.failed(), "refused");
    WorkstreamException refused = assertInstanceOf(WorkstreamException.class, answer.cause());
    assertEquals(ErrorCode.VALIDATION_ERROR, refused.code());
    return refused;
  }

  private static RequestContext context(String tenant) {
    return new RequestContext(newId(), newId(), tenant, "user", Set.of(RequestContext.MEMBER));
  }

  private static Mutation mutation(WorkItem item) {
    Mutation.Builder mutation = Mutation.newBuilder().setCreate(item);
    return mutation.setRequestFingerprint(ByteString.copyFrom(mutation.build().toByteArray())).build();
  }

  private static WorkItem item(String project, String parent) {
    long now = System.currentTimeMillis();
    return WorkItem.newBuilder().setId(newId()).setProjectId(project).setParentId(parent)
      .setType(WorkItemType.TASK).setTitle("t").setStatus(WorkItemStatus.BACKLOG)
      .setPriority(WorkItemPriority.MEDIUM).setPosition(now).setVersion(1).setCreatedAtMs(now).setUpdatedAtMs(now)
      .setCreatedBy("user").setUpdatedBy("user").build();
  }

  private static long count(String sql, Tuple params) {
    return await(pool.preparedQuery(sql).execute(params)).iterator().next().getLong(0);
  }

  private static <T> T await(Future<T> future) {
    try {
      return future.await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static String newId() {
    return UUID.randomUUID().toString();
  }
}
