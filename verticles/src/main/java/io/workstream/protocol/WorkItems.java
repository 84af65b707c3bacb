package io.workstream.protocol;

import io.workstream.bus.RequestContext;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.FieldChange;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemPriority;
import io.workstream.protocol.v1.WorkItemStatus;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** Builds new items and applies updates, computing the field-level changes between the old and the new item. */
public final class WorkItems {

  /** An applied update: the new item and what changed (empty: nothing did). */
  public record Updated(WorkItem item, List<FieldChange> changes) {
  }

  private WorkItems() {
  }

  /** A validated, fully formed new item: id, version 1 and timestamps assigned, defaults applied. */
  public static WorkItem create(RequestContext ctx, CreateWorkItem request, long nowMs) {
    String projectId = Validation.uuid("project_id", request.getProjectId());
    String parentId = Validation.optionalUuid("parent_id", request.getParentId());
    Validation.type(request.getType());
    WorkItem.Builder item = WorkItem.newBuilder()
      .setId(UUID.randomUUID().toString())
      .setProjectId(projectId)
      .setParentId(parentId)
      .setType(request.getType())
      .setTitle(Validation.title(request.getTitle()))
      .setDescription(Validation.description(request.getDescription()))
      .setStatus(WorkItemStatus.BACKLOG)
      .setPriority(WorkItemPriority.MEDIUM)
      .setAssigneeId(Validation.assignee(request.getAssigneeId()))
      .setSprintId(Validation.optionalUuid("sprint_id", request.getSprintId()))
      // Without a position an item goes after those created before it.
      .setPosition(request.hasPosition() ? request.getPosition() : nowMs)
      .setVersion(1)
      .setCreatedAtMs(nowMs)
      .setUpdatedAtMs(nowMs)
      .setCreatedBy(ctx.userId())
      .setUpdatedBy(ctx.userId());
    if (request.getStatus() != WorkItemStatus.WORK_ITEM_STATUS_UNSPECIFIED) {
      Validation.status(request.getStatus());
      item.setStatus(request.getStatus());
    }
    if (request.getPriority() != WorkItemPriority.WORK_ITEM_PRIORITY_UNSPECIFIED) {
      Validation.priority(request.getPriority());
      item.setPriority(request.getPriority());
    }
    if (request.hasStoryPoints()) {
      Validation.storyPoints(request.getStoryPoints());
      item.setStoryPoints(request.getStoryPoints());
    }
    return item.build();
  }

  /**
   * Applies a validated update to the current item. Fields the request leaves out stay as they are; a field set to
   * its current value is no change. When something changed, the version goes up by one.
   */
  public static Updated update(RequestContext ctx, UpdateWorkItem request, WorkItem current, long nowMs) {
    WorkItem.Builder next = current.toBuilder();
    if (request.hasTitle()) {
      next.setTitle(request.getTitle());
    }
    if (request.hasDescription()) {
      next.setDescription(request.getDescription());
    }
    if (request.hasStatus()) {
      next.setStatus(request.getStatus());
    }
    if (request.hasPriority()) {
      next.setPriority(request.getPriority());
    }
    if (request.hasAssigneeId()) {
      next.setAssigneeId(request.getAssigneeId());
    }
    if (request.hasSprintId()) {
      next.setSprintId(Validation.optionalUuid("sprint_id", request.getSprintId()));
    }
    if (request.hasStoryPoints()) {
      next.setStoryPoints(request.getStoryPoints());
    } else if (request.getClearStoryPoints()) {
      next.clearStoryPoints();
    }
    if (request.hasPosition()) {
      next.setPosition(request.getPosition());
    }
    if (request.hasParentId()) {
      next.setParentId(Validation.optionalUuid("parent_id", request.getParentId()));
    }
    List<FieldChange> changes = changes(current, next.build());
    if (changes.isEmpty()) {
      return new Updated(current, changes);
    }
    WorkItem updated = next
      .setVersion(current.getVersion() + 1)
      .setUpdatedAtMs(Math.max(nowMs, current.getUpdatedAtMs()))
      .setUpdatedBy(ctx.userId())
      .build();
    return new Updated(updated, changes);
  }

  /** The updatable fields whose values differ, old and new as text (enums by name, unset numbers as ""). */
  public static List<FieldChange> changes(WorkItem before, WorkItem after) {
    List<FieldChange> changes = new ArrayList<>();
    diff(changes, "title", before.getTitle(), after.getTitle());
    diff(changes, "description", before.getDescription(), after.getDescription());
    diff(changes, "status", before.getStatus().name(), after.getStatus().name());
    diff(changes, "priority", before.getPriority().name(), after.getPriority().name());
    diff(changes, "assignee_id", before.getAssigneeId(), after.getAssigneeId());
    diff(changes, "sprint_id", before.getSprintId(), after.getSprintId());
    diff(changes, "story_points", storyPoints(before), storyPoints(after));
    diff(changes, "position", Long.toString(before.getPosition()), Long.toString(after.getPosition()));
    diff(changes, "parent_id", before.getParentId(), after.getParentId());
    return changes;
  }

  private static void diff(List<FieldChange> changes, String field, String before, String after) {
    if (!before.equals(after)) {
      changes.add(FieldChange.newBuilder().setField(field).setOldValue(before).setNewValue(after).build());
    }
  }

  private static String storyPoints(WorkItem item) {
    return item.hasStoryPoints() ? Integer.toString(item.getStoryPoints()) : "";
  }
}
