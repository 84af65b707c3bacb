package io.workstream;

import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.DeleteWorkItem;
import io.workstream.protocol.v1.Error;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemList;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.Test;

import static io.workstream.WorkItemLifecycleTest.createItem;
import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.delete;
import static io.workstream.testing.Messages.get;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static io.workstream.testing.Messages.update;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Roles, tenant scoping and the rules that depend on other rows: versions, parents, children. */
class RulesTest extends SharedServiceTest {


  @Test
  void viewersReadAndSubscribeButCannotChangeAnything() {
    String tenant = newId();
    String project = newId();
    try (WsClient member = service.connect(tenant, "member");
         WsClient viewer = service.connect(tenant, "viewer")) {
      WorkItem item = createItem(member, project, "visible", "");
      assertError("FORBIDDEN", viewer.request(create(project, "no")));
      assertError("FORBIDDEN", viewer.request(update(UpdateWorkItem.newBuilder().setWorkItemId(item.getId())
        .setExpectedVersion(1).setTitle("no"))));
      assertError("FORBIDDEN", viewer.request(delete(item.getId())));
      assertEquals(1, viewer.request(get(project)).getWorkItemList().getItemsCount());
      assertTrue(viewer.request(subscribe(project)).hasSubscribeAck());
      assertEquals(1, member.request(get(project)).getWorkItemList().getItems(0).getVersion());
    }
  }

  @Test
  void aTokenWithoutKnownRolesCanDoNothing() {
    try (WsClient nobody = service.connect(newId(), "guest")) {
      assertError("FORBIDDEN", nobody.request(get(newId())));
      assertError("FORBIDDEN", nobody.request(subscribe(newId())));
      assertError("FORBIDDEN", nobody.request(create(newId(), "no")));
    }
  }

  @Test
  void adminsMayChangeItems() {
    try (WsClient admin = service.connect(newId(), "admin")) {
      assertTrue(admin.request(create(newId(), "by an admin")).hasWorkItemAck());
    }
  }

  @Test
  void anotherTenantsItemDoesNotExistForYou() {
    String project = newId();
    try (WsClient owner = service.connect(newId(), "member");
         WsClient stranger = service.connect(newId(), "admin")) {
      WorkItem item = createItem(owner, project, "private", "");
      assertError("NOT_FOUND", stranger.request(update(UpdateWorkItem.newBuilder().setWorkItemId(item.getId())
        .setExpectedVersion(1).setTitle("mine now"))));
      assertError("NOT_FOUND", stranger.request(delete(item.getId())));
      WorkItemList list = stranger.request(get(project)).getWorkItemList();
      assertEquals(0, list.getItemsCount());
      assertEquals(0, list.getAsOfSeq());
      ServerMessage child = stranger.request(create(project, "child").setCreateWorkItem(
        create(project, "child").getCreateWorkItemBuilder().setParentId(item.getId())));
      assertError("VALIDATION_ERROR", child);
      assertEquals("parent_id", child.getError().getField());
      assertEquals("private", owner.request(get(project)).getWorkItemList().getItems(0).getTitle());
    }
  }

  @Test
  void aStaleExpectedVersionConflicts() {
    try (WsClient client = service.connect(newId(), "member")) {
      WorkItem item = createItem(client, newId(), "v1", "");
      assertTrue(client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(item.getId())
        .setExpectedVersion(1).setTitle("v2"))).hasWorkItemAck());
      ServerMessage stale = client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(item.getId())
        .setExpectedVersion(1).setTitle("lost update")));
      assertError("CONFLICT", stale);
      assertTrue(stale.getError().getMessage().contains("version 2"), stale.getError().getMessage());
      ServerMessage staleDelete = client.request(ClientMessage.newBuilder().setDeleteWorkItem(
        DeleteWorkItem.newBuilder().setWorkItemId(item.getId()).setExpectedVersion(1)));
      assertError("CONFLICT", staleDelete);
      assertEquals("v2", client.request(get(item.getProjectId())).getWorkItemList().getItems(0).getTitle());
      assertTrue(client.request(ClientMessage.newBuilder().setDeleteWorkItem(
        DeleteWorkItem.newBuilder().setWorkItemId(item.getId()).setExpectedVersion(2))).hasWorkItemAck());
    }
  }

  @Test
  void anItemWithChildrenCannotBeDeleted() {
    String project = newId();
    try (WsClient client = service.connect(newId(), "member")) {
      WorkItem parent = createItem(client, project, "parent", "");
      WorkItem child = createItem(client, project, "child", parent.getId());
      assertError("DELETE_BLOCKED", client.request(delete(parent.getId())));
      assertEquals(2, client.request(get(project)).getWorkItemList().getItemsCount());
      assertTrue(client.request(delete(child.getId())).hasWorkItemAck());
      assertTrue(client.request(delete(parent.getId())).hasWorkItemAck());
      assertError("NOT_FOUND", client.request(delete(parent.getId())));
    }
  }

  @Test
  void aParentMustBeInTheSameProjectAndNotBelowTheItem() {
    String project = newId();
    try (WsClient client = service.connect(newId(), "member")) {
      WorkItem elsewhere = createItem(client, newId(), "other project", "");
      ServerMessage crossProject = client.request(create(project, "x").setCreateWorkItem(
        create(project, "x").getCreateWorkItemBuilder().setParentId(elsewhere.getId())));
      assertError("VALIDATION_ERROR", crossProject);
      assertEquals("parent_id", crossProject.getError().getField());

      ServerMessage missing = client.request(create(project, "x").setCreateWorkItem(
        create(project, "x").getCreateWorkItemBuilder().setParentId(newId())));
      assertEquals("parent_id", missing.getError().getField());

      WorkItem top = createItem(client, project, "top", "");
      WorkItem middle = createItem(client, project, "middle", top.getId());
      WorkItem bottom = createItem(client, project, "bottom", middle.getId());
      ServerMessage cycle = client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(top.getId())
        .setExpectedVersion(1).setParentId(bottom.getId())));
      assertError("VALIDATION_ERROR", cycle);
      assertEquals("parent_id", cycle.getError().getField());
      ServerMessage moveAcross = client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(bottom.getId())
        .setExpectedVersion(1).setParentId(elsewhere.getId())));
      assertEquals("parent_id", moveAcross.getError().getField());
      assertTrue(client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(bottom.getId())
        .setExpectedVersion(1).setParentId(top.getId()))).hasWorkItemAck());
    }
  }

  @Test
  void missingItemsAreNotFound() {
    try (WsClient client = service.connect(newId(), "member")) {
      assertError("NOT_FOUND", client.request(update(UpdateWorkItem.newBuilder().setWorkItemId(newId())
        .setExpectedVersion(1).setTitle("ghost"))));
      assertError("NOT_FOUND", client.request(delete(newId())));
    }
  }

  static void assertError(String code, ServerMessage reply) {
    assertTrue(reply.hasError(), () -> "expected " + code + ", got " + reply);
    Error error = reply.getError();
    assertEquals(code, error.getCode(), error::getMessage);
  }
}
