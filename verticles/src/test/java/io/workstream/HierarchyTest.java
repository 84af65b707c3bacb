package io.workstream;

import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.vertx.core.json.JsonObject;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.TestService;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.workstream.RulesTest.assertError;
import static io.workstream.WorkItemLifecycleTest.createItem;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Parent changes that race each other never close a cycle, and no chain grows deeper than the cap, whatever the
 * interleaving: each re-parenting is sent at the same moment from its own connection, and the result is read back
 * from the database itself.
 */
class HierarchyTest {

  /** {@code db.maxHierarchyDepth}'s default. */
  static final int MAX_DEPTH = 32;
  static final int WRITERS = 6;
  static final List<WsClient> writers = new ArrayList<>();
  static final String tenant = newId();
  static TestService service;

  @BeforeAll
  static void start() {
    // Hundreds of set-up creates from few connections: a rate limit of its own keeps them from being refused.
    JsonObject config = TestService.baseConfig(TestDatabase.shared());
    config.getJsonObject("gateway").put("rateLimit", new JsonObject().put("messagesPerSecond", 100_000)
      .put("burst", 100_000));
    service = TestService.start(config);
    for (int i = 0; i < WRITERS; i++) {
      writers.add(service.connect(tenant, "member"));
    }
  }

  @AfterAll
  static void disconnect() {
    writers.forEach(WsClient::close);
    service.close();
  }

  @Test
  void aRotationOfThreeNeverClosesACycle() {
    for (int round = 0; round < 20; round++) {
      String project = newId();
      List<WorkItem> items = List.of(root(project), root(project), root(project));
      Map<WorkItem, WorkItem> moves = new HashMap<>();
      for (int i = 0; i < 3; i++) {
        moves.put(items.get(i), items.get((i + 1) % 3));
      }
      assertEquals(2, applyAtOnce(moves), "all but the move that would close the cycle");
      assertAcyclic(project);
    }
  }

  /** a → b → c → d → a where a→b and c→d are the concurrent moves: neither touches the other's rows. */
  @Test
  void movesFarApartNeverCloseACycleBetweenThem() {
    for (int round = 0; round < 30; round++) {
      String project = newId();
      WorkItem a = root(project);
      WorkItem c = root(project);
      WorkItem b = createItem(writers.get(0), project, "b", c.getId());
      WorkItem d = createItem(writers.get(0), project, "d", a.getId());
      assertEquals(1, applyAtOnce(Map.of(a, b, c, d)));
      assertAcyclic(project);
    }
  }

  @Test
  void randomConcurrentMovesNeverCloseACycle() {
    qt().withExamples(40).withShrinkCycles(0).forAll(longs().all()).checkAssert(seed -> {
      Random random = new Random(seed);
      String project = newId();
      List<WorkItem> items = new ArrayList<>();
      int size = 4 + random.nextInt(5);
      for (int i = 0; i < size; i++) {
        // A random forest: each item under an earlier one or a root.
        String parent = i == 0 || random.nextInt(3) == 0 ? "" : items.get(random.nextInt(i)).getId();
        items.add(createItem(writers.get(0), project, "item " + i, parent));
      }
      List<WorkItem> moved = new ArrayList<>(items);
      java.util.Collections.shuffle(moved, random);
      Map<WorkItem, WorkItem> moves = new HashMap<>();
      for (WorkItem item : moved.subList(0, Math.min(WRITERS, 3 + random.nextInt(size - 2)))) {
        WorkItem parent;
        do {
          parent = items.get(random.nextInt(size));
        } while (parent == item);
        moves.put(item, parent);
      }
      applyAtOnce(moves);
      assertAcyclic(project);
    });
  }

  @Test
  void aChainStopsAtTheMaximumDepth() {
    String project = newId();
    WsClient client = writers.get(0);
    List<WorkItem> chain = chain(project, MAX_DEPTH);
    WorkItem deepest = chain.get(MAX_DEPTH - 1);
    ServerMessage tooDeep = client.request(io.workstream.testing.Messages.create(project, "33")
      .setCreateWorkItem(io.workstream.testing.Messages.create(project, "33").getCreateWorkItemBuilder()
        .setParentId(deepest.getId())));
    assertError("VALIDATION_ERROR", tooDeep);
    assertEquals("parent_id", tooDeep.getError().getField());

    // A two-level subtree fits under level 30, not under level 31.
    WorkItem top = root(project);
    createItem(client, project, "below top", top.getId());
    ServerMessage moved = client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(top.getId())
      .setExpectedVersion(1).setParentId(chain.get(MAX_DEPTH - 2).getId())));
    assertError("VALIDATION_ERROR", moved);
    assertEquals("parent_id", moved.getError().getField());
    assertTrue(client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(top.getId())
      .setExpectedVersion(1).setParentId(chain.get(MAX_DEPTH - 3).getId()))).hasWorkItemAck());
    assertEquals(MAX_DEPTH, depth(project));
  }

  /** Each move alone keeps within the cap; both together would not: only one may succeed. */
  @Test
  void twoMovesThatTogetherGoTooDeepAreNotBothApplied() {
    for (int round = 0; round < 10; round++) {
      String project = newId();
      List<WorkItem> upper = chain(project, MAX_DEPTH / 2);
      List<WorkItem> lower = chain(project, MAX_DEPTH / 2);
      WorkItem newRoot = root(project);
      assertEquals(1, applyAtOnce(Map.of(lower.get(0), upper.get(upper.size() - 1), upper.get(0), newRoot)));
      assertTrue(depth(project) <= MAX_DEPTH, "depth " + depth(project));
    }
  }

  private static WorkItem root(String project) {
    return createItem(writers.get(0), project, "root", "");
  }

  private static List<WorkItem> chain(String project, int length) {
    List<WorkItem> chain = new ArrayList<>();
    for (int level = 1; level <= length; level++) {
      chain.add(createItem(writers.get(0), project, "level " + level,
        chain.isEmpty() ? "" : chain.get(chain.size() - 1).getId()));
    }
    return chain;
  }

  /**
   * Sends every move (item → new parent, from version 1) at the same moment, each from its own connection; every
   * reply is an ack or a refusal on {@code parent_id}. Returns how many were applied.
   */
  private static int applyAtOnce(Map<WorkItem, WorkItem> moves) {
    List<CompletableFuture<ServerMessage>> replies = new ArrayList<>();
    int writer = 0;
    for (Map.Entry<WorkItem, WorkItem> move : moves.entrySet()) {
      ClientMessage request = update(UpdateWorkItem.newBuilder().setWorkItemId(move.getKey().getId())
        .setExpectedVersion(move.getKey().getVersion()).setParentId(move.getValue().getId()))
        .setMessageId(newId()).build();
      replies.add(writers.get(writer++).sendAsync(request));
    }
    int applied = 0;
    for (CompletableFuture<ServerMessage> reply : replies) {
      ServerMessage message;
      try {
        message = reply.get(WsClient.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        throw new AssertionError("no reply to a move", e);
      }
      if (message.hasWorkItemAck()) {
        applied++;
      } else {
        assertError("VALIDATION_ERROR", message);
        assertEquals("parent_id", message.getError().getField());
      }
    }
    return applied;
  }

  /** Walks up from every item with a parent, in the database itself: no walk comes back to where it started. */
  private static void assertAcyclic(String project) {
    Object cycles = TestDatabase.shared().queryValue("WITH RECURSIVE up(start_id, id, steps) AS ("
      + " SELECT id, parent_id, 1 FROM work_items WHERE tenant_id = ? AND project_id = ?::uuid AND parent_id IS NOT NULL"
      + " UNION ALL SELECT up.start_id, w.parent_id, up.steps + 1 FROM up JOIN work_items w"
      + "   ON w.tenant_id = ? AND w.id = up.id"
      + " WHERE w.parent_id IS NOT NULL AND up.id <> up.start_id AND up.steps < 1000)"
      + " SELECT count(*) FROM up WHERE id = start_id", tenant, project, tenant);
    assertEquals(0L, ((Number) cycles).longValue(), "items on a parent cycle in project " + project);
  }

  /** The number of levels of the project's deepest chain, read from the database. */
  private static int depth(String project) {
    Object depth = TestDatabase.shared().queryValue("WITH RECURSIVE down(id, level) AS ("
      + " SELECT id, 1 FROM work_items WHERE tenant_id = ? AND project_id = ?::uuid AND parent_id IS NULL"
      + " UNION ALL SELECT w.id, down.level + 1 FROM down JOIN work_items w ON w.tenant_id = ? AND w.parent_id = down.id"
      + " WHERE down.level < 1000)"
      + " SELECT max(level) FROM down", tenant, project, tenant);
    return ((Number) depth).intValue();
  }
}
