package io.workstream.db;

import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import io.workstream.protocol.v1.WorkItem;
import io.workstream.protocol.v1.WorkItemPriority;
import io.workstream.protocol.v1.WorkItemStatus;
import io.workstream.protocol.v1.WorkItemType;

import java.util.UUID;

/** Maps {@code work_items} rows to {@link WorkItem} and back. Empty id strings are SQL NULLs. */
final class WorkItemRows {

  private WorkItemRows() {
  }

  static WorkItem fromRow(Row row) {
    WorkItem.Builder item = WorkItem.newBuilder()
      .setId(row.getUUID("id").toString())
      .setProjectId(row.getUUID("project_id").toString())
      .setParentId(text(row.getUUID("parent_id")))
      .setType(WorkItemType.forNumber(row.getShort("type")))
      .setTitle(row.getString("title"))
      .setDescription(row.getString("description"))
      .setStatus(WorkItemStatus.forNumber(row.getShort("status")))
      .setPriority(WorkItemPriority.forNumber(row.getShort("priority")))
      .setAssigneeId(text(row.getString("assignee_id")))
      .setSprintId(text(row.getUUID("sprint_id")))
      .setPosition(row.getLong("position"))
      .setVersion(row.getLong("version"))
      .setCreatedAtMs(row.getLong("created_at_ms"))
      .setUpdatedAtMs(row.getLong("updated_at_ms"))
      .setCreatedBy(row.getString("created_by"))
      .setUpdatedBy(row.getString("updated_by"));
    Integer points = row.getInteger("story_points");
    if (points != null) {
      item.setStoryPoints(points);
    }
    return item.build();
  }

  /** Parameters of {@link WorkItemSql#INSERT_ITEM}. */
  static Tuple insertParams(String tenantId, WorkItem item) {
    return Tuple.tuple()
      .addString(tenantId)
      .addUUID(UUID.fromString(item.getId()))
      .addUUID(UUID.fromString(item.getProjectId()))
      .addUUID(uuid(item.getParentId()))
      .addShort((short) item.getTypeValue())
      .addString(item.getTitle())
      .addString(item.getDescription())
      .addShort((short) item.getStatusValue())
      .addShort((short) item.getPriorityValue())
      .addString(nullIfEmpty(item.getAssigneeId()))
      .addUUID(uuid(item.getSprintId()))
      .addInteger(item.hasStoryPoints() ? item.getStoryPoints() : null)
      .addLong(item.getPosition())
      .addLong(item.getVersion())
      .addLong(item.getCreatedAtMs())
      .addLong(item.getUpdatedAtMs())
      .addString(item.getCreatedBy())
      .addString(item.getUpdatedBy());
  }

  /** Parameters of {@link WorkItemSql#UPDATE_ITEM}. */
  static Tuple updateParams(String tenantId, WorkItem item, long expectedVersion) {
    return Tuple.tuple()
      .addString(tenantId)
      .addUUID(UUID.fromString(item.getId()))
      .addUUID(uuid(item.getParentId()))
      .addString(item.getTitle())
      .addString(item.getDescription())
      .addShort((short) item.getStatusValue())
      .addShort((short) item.getPriorityValue())
      .addString(nullIfEmpty(item.getAssigneeId()))
      .addUUID(uuid(item.getSprintId()))
      .addInteger(item.hasStoryPoints() ? item.getStoryPoints() : null)
      .addLong(item.getPosition())
      .addLong(item.getVersion())
      .addLong(item.getUpdatedAtMs())
      .addString(item.getUpdatedBy())
      .addLong(expectedVersion);
  }

  static UUID uuid(String id) {
    return id == null || id.isEmpty() ? null : UUID.fromString(id);
  }

  private static String text(Object value) {
    return value == null ? "" : value.toString();
  }

  private static String nullIfEmpty(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
