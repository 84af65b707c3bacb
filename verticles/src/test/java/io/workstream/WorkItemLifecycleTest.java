package io.workstream;

import io.workstream.protocol.v1.ChangeEvent;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.FieldChange;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemAck;
import io.workstream.protocol.v1.WorkItemList;
import io.workstream.protocol.v1.WorkItemPriority;
import io.workstream.protocol.v1.WorkItemStatus;
import io.workstream.protocol.v1.WorkItemType;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.delete;
import static io.workstream.testing.Messages.get;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static io.workstream.testing.Messages.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Create, update, delete and get through a real socket, and the change events they produce. */
class WorkItemLifecycleTest extends SharedServiceTest {


  @Test
  void createUpdateDeleteAndGetProduceOrderedEvents() {
    String tenant = newId();
    String project = newId();
    try (WsClient client = service.connectAs(tenant, "alice", "member")) {
      assertTrue(client.request(subscribe(project)).hasSubscribeAck());

      String createId = newId();
      ServerMessage created = client.request(create(CreateWorkItem.newBuilder()
        .setProjectId(project).setType(WorkItemType.STORY).setTitle("Checkout flow")
        .setDescription("Line one\nline two").setPriority(WorkItemPriority.HIGH).setStoryPoints(5))
        .setMessageId(createId));
      assertEquals(createId, created.getMessageId());
      assertEquals(createId, created.getCorrelationId());
      assertTrue(created.getServerTimeMs() > 0);
      WorkItem item = created.getWorkItemAck().getItem();
      assertEquals(1, created.getWorkItemAck().getSeq());
      assertEquals(1, item.getVersion());
      assertEquals(project, item.getProjectId());
      assertEquals(WorkItemStatus.BACKLOG, item.getStatus());
      assertEquals(WorkItemPriority.HIGH, item.getPriority());
      assertEquals(5, item.getStoryPoints());
      assertEquals("alice", item.getCreatedBy());

      ChangeEvent createdEvent = client.nextEvent();
      assertEquals(1, createdEvent.getSeq());
      assertEquals(item, createdEvent.getCreated());
      assertEquals(createId, createdEvent.getCorrelationId());
      assertEquals("alice", createdEvent.getActorId());

      ServerMessage updated = client.request(update(UpdateWorkItem.newBuilder()
        .setWorkItemId(item.getId()).setExpectedVersion(1)
        .setTitle("Checkout flow v2").setStatus(WorkItemStatus.IN_PROGRESS).setAssigneeId("bob")));
      WorkItem v2 = updated.getWorkItemAck().getItem();
      assertEquals(2, updated.getWorkItemAck().getSeq());
      assertEquals(2, v2.getVersion());
      assertEquals("Checkout flow v2", v2.getTitle());
      assertEquals("Line one\nline two", v2.getDescription());
      ChangeEvent updatedEvent = client.nextEvent();
      assertEquals(2, updatedEvent.getSeq());
      assertEquals(v2, updatedEvent.getUpdated().getItem());
      assertEquals(List.of(
          change("title", "Checkout flow", "Checkout flow v2"),
          change("status", "BACKLOG", "IN_PROGRESS"),
          change("assignee_id", "", "bob")),
        updatedEvent.getUpdated().getChangesList());

      ServerMessage unchanged = client.request(update(UpdateWorkItem.newBuilder()
        .setWorkItemId(item.getId()).setExpectedVersion(2).setTitle("Checkout flow v2")));
      assertEquals(0, unchanged.getWorkItemAck().getSeq());
      assertEquals(v2, unchanged.getWorkItemAck().getItem());

      WorkItemList list = client.request(get(project)).getWorkItemList();
      assertEquals(List.of(v2), list.getItemsList());
      assertEquals(2, list.getAsOfSeq());

      ServerMessage deleted = client.request(delete(item.getId()));
      assertEquals(item.getId(), deleted.getWorkItemAck().getDeletedId());
      assertEquals(3, deleted.getWorkItemAck().getSeq());
      ChangeEvent deletedEvent = client.nextEvent();
      assertEquals(3, deletedEvent.getSeq());
      assertEquals(item.getId(), deletedEvent.getDeleted().getWorkItemId());

      assertEquals(0, client.request(get(project)).getWorkItemList().getItemsCount());
      assertTrue(client.drainPushes().isEmpty(), "the no-op update must not produce an event");
    }
  }

  @Test
  void clearsIdFieldsWithEmptyStringsAndMovesItemsBetweenParents() {
    String tenant = newId();
    String project = newId();
    try (WsClient client = service.connect(tenant, "member")) {
      WorkItem epic = createItem(client, project, "Epic", "");
      WorkItem story = createItem(client, project, "Story", epic.getId());
      assertEquals(epic.getId(), story.getParentId());

      WorkItem moved = client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(story.getId())
        .setExpectedVersion(1).setParentId("").setSprintId(newId().toUpperCase()))).getWorkItemAck().getItem();
      assertEquals("", moved.getParentId());
      assertEquals(moved.getSprintId().toLowerCase(), moved.getSprintId(), "ids come back in canonical form");

      WorkItem cleared = client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(story.getId())
        .setExpectedVersion(2).setSprintId(""))).getWorkItemAck().getItem();
      assertEquals("", cleared.getSprintId());
      assertEquals(3, cleared.getVersion());
    }
  }

  @Test
  void clearsTheEstimateWithClearStoryPoints() {
    try (WsClient client = service.connect(newId(), "member")) {
      ServerMessage created = client.request(create(CreateWorkItem.newBuilder().setProjectId(newId())
        .setType(WorkItemType.STORY).setTitle("estimated").setStoryPoints(5)));
      WorkItem item = created.getWorkItemAck().getItem();
      assertEquals(5, item.getStoryPoints());

      ServerMessage both = client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(item.getId())
        .setExpectedVersion(1).setStoryPoints(3).setClearStoryPoints(true)));
      assertEquals("story_points", both.getError().getField(), both::toString);

      WorkItemAck cleared = client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(item.getId())
        .setExpectedVersion(1).setClearStoryPoints(true))).getWorkItemAck();
      assertFalse(cleared.getItem().hasStoryPoints());
      assertEquals(2, cleared.getItem().getVersion());
      assertTrue(cleared.getSeq() > 0);
    }
  }

  @Test
  void pagesThroughAProjectAndFiltersByUpdateTime() {
    String tenant = newId();
    String project = newId();
    try (WsClient client = service.connect(tenant, "member")) {
      Set<String> created = new HashSet<>();
      for (int i = 0; i < 7; i++) {
        created.add(createItem(client, project, "item " + i, "").getId());
      }
      createItem(client, newId(), "in another project", "");

      Set<String> seen = new HashSet<>();
      String token = "";
      int pages = 0;
      do {
        WorkItemList page = client.request(ClientMessage.newBuilder().setGetWorkItems(GetWorkItems.newBuilder()
          .setProjectId(project).setLimit(3).setPageToken(token))).getWorkItemList();
        page.getItemsList().forEach(item -> assertTrue(seen.add(item.getId()), "an item appeared twice"));
        assertEquals(7, page.getAsOfSeq());
        token = page.getNextPageToken();
        pages++;
      } while (!token.isEmpty());
      assertEquals(created, seen);
      assertEquals(3, pages);

      WorkItemList all = client.request(get(project)).getWorkItemList();
      long newest = all.getItemsList().stream().mapToLong(WorkItem::getUpdatedAtMs).max().orElseThrow();
      WorkItemList recent = client.request(ClientMessage.newBuilder().setGetWorkItems(GetWorkItems.newBuilder()
        .setProjectId(project).setUpdatedSinceMs(newest))).getWorkItemList();
      assertFalse(recent.getItemsList().isEmpty());
      recent.getItemsList().forEach(item -> assertTrue(item.getUpdatedAtMs() >= newest));
      assertNotEquals(all.getItemsCount(), 0);
    }
  }

  static WorkItem createItem(WsClient client, String project, String title, String parentId) {
    ServerMessage reply = client.request(create(CreateWorkItem.newBuilder().setProjectId(project)
      .setType(WorkItemType.TASK).setTitle(title).setParentId(parentId)));
    assertTrue(reply.hasWorkItemAck(), () -> "create failed: " + reply);
    return reply.getWorkItemAck().getItem();
  }

  private static FieldChange change(String field, String before, String after) {
    return FieldChange.newBuilder().setField(field).setOldValue(before).setNewValue(after).build();
  }
}
