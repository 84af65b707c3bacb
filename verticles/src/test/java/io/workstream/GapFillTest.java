package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemType;
import io.workstream.testing.TestDatabase;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.List;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A change committed but never published (its node died in between) leaves a gap the next event reveals: the
 * broadcast reads the missing event from the history, and subscribers still see every seq once, in order.
 */
class GapFillTest extends SharedServiceTest {

  @Test
  void aCommittedChangeThatWasNeverPublishedIsFilledInFromTheHistory() {
    String tenant = newId();
    String project = newId();
    try (WsClient writer = service.connect(tenant, "member");
         WsClient watcher = service.connect(tenant, "viewer")) {
      assertTrue(watcher.request(subscribe(project)).hasSubscribeAck());
      writer.request(create(project, "published"));
      assertEquals(1, watcher.nextEvent().getSeq());

      // What a node that died after its commit and before its publish leaves behind: seq 2 exists only in the database.
      ChangeEvent lost = ChangeEvent.newBuilder().setProjectId(project).setSeq(2).setActorId("ghost")
        .setCorrelationId("lost-" + newId()).setOccurredAtMs(System.currentTimeMillis())
        .setCreated(WorkItem.newBuilder().setId(newId()).setProjectId(project).setType(WorkItemType.TASK)
          .setTitle("never published").setVersion(1)).build();
      TestDatabase db = TestDatabase.shared();
      db.execute("INSERT INTO change_events (tenant_id, project_id, seq, occurred_at_ms, event) "
        + "VALUES (?, ?::uuid, 2, ?, ?)", tenant, project, lost.getOccurredAtMs(), lost.toByteArray());
      db.execute("UPDATE project_sequences SET last_seq = 2 WHERE tenant_id = ? AND project_id = ?::uuid", tenant,
        project);

      assertEquals(3, writer.request(create(project, "after the gap")).getWorkItemAck().getSeq());
      List<ChangeEvent> events = watcher.events(2);
      assertEquals(List.of(2L, 3L), events.stream().map(ChangeEvent::getSeq).toList());
      assertEquals(lost.getCorrelationId(), events.get(0).getCorrelationId());
    }
  }
}
