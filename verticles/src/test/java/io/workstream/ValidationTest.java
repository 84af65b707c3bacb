package io.workstream;

import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.DeleteWorkItem;
import io.workstream.protocol.v1.Error;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemType;
import io.workstream.testing.WsClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.function.Function;
import java.util.stream.Stream;

import static io.workstream.testing.Messages.create;
import static io.workstream.testing.Messages.newId;
import static io.workstream.testing.Messages.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every validation rule answers VALIDATION_ERROR naming its field, and changes nothing. */
class ValidationTest extends SharedServiceTest {

  static WsClient client;
  static String project;
  static WorkItem item;

  @BeforeAll
  static void start() {
    client = service.connect(newId(), "member");
    project = newId();
    item = WorkItemLifecycleTest.createItem(client, project, "existing", "");
    assertTrue(client.request(subscribe(project)).hasSubscribeAck());
  }

  @AfterAll
  static void stop() {
    client.close();
  }

  static CreateWorkItem.Builder validCreate() {
    return CreateWorkItem.newBuilder().setProjectId(project).setType(WorkItemType.BUG).setTitle("valid");
  }

  static UpdateWorkItem.Builder validUpdate() {
    return UpdateWorkItem.newBuilder().setWorkItemId(item.getId()).setExpectedVersion(item.getVersion());
  }

  static Arguments createCase(String field, Function<CreateWorkItem.Builder, CreateWorkItem.Builder> breakIt) {
    return Arguments.of("create " + field, (java.util.function.Supplier<ClientMessage.Builder>)
      () -> ClientMessage.newBuilder().setCreateWorkItem(breakIt.apply(validCreate())), field);
  }

  static Arguments updateCase(String field, Function<UpdateWorkItem.Builder, UpdateWorkItem.Builder> breakIt) {
    return Arguments.of("update " + field, (java.util.function.Supplier<ClientMessage.Builder>)
      () -> ClientMessage.newBuilder().setUpdateWorkItem(breakIt.apply(validUpdate())), field);
  }

  static Arguments other(String name, java.util.function.Supplier<ClientMessage.Builder> request, String field) {
    return Arguments.of(name, request, field);
  }

  static Stream<Arguments> invalidRequests() {
    return Stream.of(
      createCase("project_id", c -> c.setProjectId("")),
      createCase("project_id", c -> c.setProjectId("not-a-uuid")),
      createCase("parent_id", c -> c.setParentId("12345")),
      createCase("type", c -> c.setType(WorkItemType.WORK_ITEM_TYPE_UNSPECIFIED)),
      createCase("type", c -> c.setTypeValue(42)),
      createCase("title", c -> c.setTitle("")),
      createCase("title", c -> c.setTitle("x".repeat(501))),
      createCase("title", c -> c.setTitle("two\nlines")),
      createCase("title", c -> c.setTitle("bell\u0007")),
      createCase("description", c -> c.setDescription("d".repeat(20_001))),
      createCase("description", c -> c.setDescription("nul\u0000byte")),
      createCase("status", c -> c.setStatusValue(9)),
      createCase("priority", c -> c.setPriorityValue(9)),
      createCase("assignee_id", c -> c.setAssigneeId("a".repeat(129))),
      createCase("sprint_id", c -> c.setSprintId("sprint-1")),
      createCase("story_points", c -> c.setStoryPoints(-1)),
      createCase("story_points", c -> c.setStoryPoints(1_001)),
      updateCase("work_item_id", u -> u.setWorkItemId("")),
      updateCase("work_item_id", u -> u.setWorkItemId("nope")),
      updateCase("expected_version", u -> u.setExpectedVersion(0)),
      updateCase("title", u -> u.setTitle("")),
      updateCase("title", u -> u.setTitle("t".repeat(501))),
      updateCase("description", u -> u.setDescription("\u001b[31m")),
      updateCase("status", u -> u.setStatusValue(0)),
      updateCase("priority", u -> u.setPriorityValue(0)),
      updateCase("sprint_id", u -> u.setSprintId("x")),
      updateCase("parent_id", u -> u.setParentId("x")),
      updateCase("parent_id", u -> u.setParentId(item.getId())),
      other("delete work_item_id", () -> ClientMessage.newBuilder().setDeleteWorkItem(
        DeleteWorkItem.newBuilder().setWorkItemId("123")), "work_item_id"),
      other("delete expected_version", () -> ClientMessage.newBuilder().setDeleteWorkItem(
        DeleteWorkItem.newBuilder().setWorkItemId(item.getId()).setExpectedVersion(0)), "expected_version"),
      other("get project_id", () -> ClientMessage.newBuilder().setGetWorkItems(GetWorkItems.newBuilder()),
        "project_id"),
      other("get limit", () -> ClientMessage.newBuilder().setGetWorkItems(GetWorkItems.newBuilder()
        .setProjectId(project).setLimit(1_001)), "limit"),
      other("get page_token", () -> ClientMessage.newBuilder().setGetWorkItems(GetWorkItems.newBuilder()
        .setProjectId(project).setPageToken("forged")), "page_token"),
      other("subscribe nothing", () -> ClientMessage.newBuilder().setSubscribe(Subscribe.newBuilder()), "projects"),
      other("subscribe project_id", () -> ClientMessage.newBuilder().setSubscribe(Subscribe.newBuilder()
        .addProjects(ProjectCursor.newBuilder().setProjectId("p1"))), "project_id"),
      other("subscribe after_seq", () -> ClientMessage.newBuilder().setSubscribe(Subscribe.newBuilder()
        .addProjects(ProjectCursor.newBuilder().setProjectId(project).setAfterSeq(-1))), "after_seq"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidRequests")
  void answersValidationErrorNamingTheField(String name, java.util.function.Supplier<ClientMessage.Builder> request,
                                            String field) {
    ServerMessage reply = client.request(request.get());
    assertTrue(reply.hasError(), () -> "expected an error, got " + reply);
    Error error = reply.getError();
    assertEquals("VALIDATION_ERROR", error.getCode(), error::getMessage);
    assertEquals(field, error.getField(), error::getMessage);
    assertTrue(!error.getMessage().isEmpty());
  }

  @Test
  void anOverlongMessageIdIsRefusedBeforeAnythingElse() {
    ServerMessage reply = client.request(create(project, "t").setMessageId("m".repeat(129)));
    assertEquals("VALIDATION_ERROR", reply.getError().getCode());
    assertEquals("message_id", reply.getError().getField());
  }

  @Test
  void acceptsValuesAtTheLimits() {
    String emoji = "\uD83D\uDE80";
    ServerMessage reply = client.request(ClientMessage.newBuilder().setCreateWorkItem(validCreate()
      .setTitle(emoji.repeat(500)).setDescription("d\n\t".repeat(6_666) + "dd").setStoryPoints(1_000)
      .setAssigneeId("a".repeat(128))));
    assertTrue(reply.hasWorkItemAck(), reply::toString);
    assertEquals(emoji.repeat(500), reply.getWorkItemAck().getItem().getTitle());
  }

  @Test
  void invalidRequestsChangedNothing() {
    // Every change of the project is one of the valid creates: the rejected requests left no item and no event.
    long sentinelSeq = client.request(create(project, "sentinel")).getWorkItemAck().getSeq();
    var events = client.events((int) sentinelSeq - 1);
    events.forEach(event -> assertTrue(event.hasCreated(), () -> "unexpected change " + event));
    assertEquals(sentinelSeq, events.get(events.size() - 1).getSeq());
    assertEquals(sentinelSeq, client.request(io.workstream.testing.Messages.get(project)).getWorkItemList()
      .getItemsCount());
  }
}
