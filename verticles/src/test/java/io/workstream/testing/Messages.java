package io.workstream.testing;

import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.DeleteWorkItem;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItemType;

import java.util.UUID;

/** Builders for the requests tests send most. */
public final class Messages {

  private Messages() {
  }

  public static String newId() {
    return UUID.randomUUID().toString();
  }

  public static ClientMessage.Builder create(String projectId, String title) {
    return ClientMessage.newBuilder().setCreateWorkItem(CreateWorkItem.newBuilder()
      .setProjectId(projectId).setType(WorkItemType.TASK).setTitle(title));
  }

  public static ClientMessage.Builder create(CreateWorkItem.Builder create) {
    return ClientMessage.newBuilder().setCreateWorkItem(create);
  }

  public static ClientMessage.Builder update(UpdateWorkItem.Builder update) {
    return ClientMessage.newBuilder().setUpdateWorkItem(update);
  }

  public static ClientMessage.Builder delete(String itemId) {
    return ClientMessage.newBuilder().setDeleteWorkItem(DeleteWorkItem.newBuilder().setWorkItemId(itemId));
  }

  public static ClientMessage.Builder get(String projectId) {
    return ClientMessage.newBuilder().setGetWorkItems(GetWorkItems.newBuilder().setProjectId(projectId));
  }

  public static ClientMessage.Builder subscribe(String projectId) {
    return ClientMessage.newBuilder().setSubscribe(Subscribe.newBuilder()
      .addProjects(ProjectCursor.newBuilder().setProjectId(projectId)));
  }

  public static ClientMessage.Builder subscribeAfter(String projectId, long afterSeq) {
    return ClientMessage.newBuilder().setSubscribe(Subscribe.newBuilder()
      .addProjects(ProjectCursor.newBuilder().setProjectId(projectId).setAfterSeq(afterSeq)));
  }
}
