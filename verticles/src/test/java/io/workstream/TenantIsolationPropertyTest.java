package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemStatus;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.delete;
import static io.workstream.testing.Messages.get;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static io.workstream.testing.Messages.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

/**
 * Random mixes of creates, updates, deletes and reads by two tenants on the same project ids, against the live
 * service: neither tenant ever observes the other (events, reads, ids), and each subscriber sees its projects'
 * seqs as exactly 1..n. A bounded number of examples: each one is a few hundred real requests.
 */
class TenantIsolationPropertyTest extends SharedServiceTest {


  /** One tenant's side of an example: its clients, what it made, what it saw. */
  static final class Side {
    final String tenant = newId();
    final WsClient writer;
    final WsClient watcher;
    final Set<String> correlationIds = new HashSet<>();
    final Map<String, List<String>> itemsByProject = new HashMap<>();
    final Map<String, Long> changesByProject = new HashMap<>();

    Side(List<String> projects) {
      writer = service.connect(tenant, "member");
      watcher = service.connect(tenant, "viewer");
      for (String project : projects) {
        assertTrue(watcher.request(subscribe(project)).hasSubscribeAck());
        itemsByProject.put(project, new ArrayList<>());
        changesByProject.put(project, 0L);
      }
    }

    void close() {
      writer.close();
      watcher.close();
    }
  }

  @Test
  void tenantsNeverObserveEachOtherAndSeqsAreGapFree() {
    qt().withExamples(6).withShrinkCycles(0).forAll(longs().all(), integers().between(20, 60))
      .checkAssert((seed, operations) -> {
        Random random = new Random(seed);
        List<String> projects = List.of(newId(), newId());
        Side a = new Side(projects);
        Side b = new Side(projects);
        try {
          for (int i = 0; i < operations; i++) {
            Side side = random.nextBoolean() ? a : b;
            act(side, side == a ? b : a, projects.get(random.nextInt(projects.size())), random);
          }
          for (Side side : List.of(a, b)) {
            Side other = side == a ? b : a;
            long total = side.changesByProject.values().stream().mapToLong(Long::longValue).sum();
            Map<String, List<Long>> seqs = new HashMap<>();
            for (ChangeEvent event : side.watcher.events((int) total)) {
              assertTrue(side.correlationIds.contains(event.getCorrelationId()), "an event of another tenant");
              assertTrue(!other.correlationIds.contains(event.getCorrelationId()));
              seqs.computeIfAbsent(event.getProjectId(), p -> new ArrayList<>()).add(event.getSeq());
            }
            for (String project : projects) {
              long n = side.changesByProject.get(project);
              assertEquals(LongStream.rangeClosed(1, n).boxed().toList(), seqs.getOrDefault(project, List.of()));
              List<String> visible = side.writer.request(get(project)).getWorkItemList().getItemsList().stream()
                .map(WorkItem::getId).sorted().toList();
              assertEquals(side.itemsByProject.get(project).stream().sorted().toList(), visible);
            }
            assertTrue(side.watcher.drainPushes().isEmpty());
          }
        } finally {
          a.close();
          b.close();
        }
      });
  }

  /** One random operation; the other tenant's ids are fair game too, and must behave as if they did not exist. */
  private static void act(Side side, Side other, String project, Random random) {
    List<String> items = side.itemsByProject.get(project);
    String messageId = newId();
    side.correlationIds.add(messageId);
    int choice = items.isEmpty() ? 0 : random.nextInt(4);
    switch (choice) {
      case 0 -> {
        ServerMessage reply = side.writer.request(create(project, "item " + random.nextInt()).setMessageId(messageId));
        items.add(reply.getWorkItemAck().getItem().getId());
        side.changesByProject.merge(project, 1L, Long::sum);
      }
      case 1 -> {
        String id = items.get(random.nextInt(items.size()));
        WorkItem current = side.writer.request(get(project)).getWorkItemList().getItemsList().stream()
          .filter(item -> item.getId().equals(id)).findFirst().orElseThrow();
        ServerMessage reply = side.writer.request(update(UpdateWorkItem.newBuilder().setWorkItemId(id)
          .setExpectedVersion(current.getVersion())
          .setStatus(WorkItemStatus.forNumber(1 + random.nextInt(5)))).setMessageId(messageId));
        if (reply.getWorkItemAck().getSeq() > 0) {
          side.changesByProject.merge(project, 1L, Long::sum);
        }
      }
      case 2 -> {
        String id = items.remove(random.nextInt(items.size()));
        assertTrue(side.writer.request(delete(id).setMessageId(messageId)).hasWorkItemAck());
        side.changesByProject.merge(project, 1L, Long::sum);
      }
      default -> {
        // Reach for the other tenant's item: it must be NOT_FOUND, and stay untouched.
        List<String> theirs = other.itemsByProject.get(project);
        String id = theirs.isEmpty() ? newId() : theirs.get(random.nextInt(theirs.size()));
        ServerMessage reply = random.nextBoolean()
          ? side.writer.request(delete(id).setMessageId(messageId))
          : side.writer.request(update(UpdateWorkItem.newBuilder().setWorkItemId(id).setExpectedVersion(1)
          .setTitle("taken over")).setMessageId(messageId));
        assertEquals("NOT_FOUND", reply.getError().getCode());
      }
    }
  }
}
