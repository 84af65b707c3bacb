package io.workstream.protocol;

import io.workstream.bus.WorkstreamException;
import io.workstream.protocol.v1.DeleteWorkItem;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItemPriority;
import io.workstream.protocol.v1.WorkItemStatus;
import io.workstream.protocol.v1.WorkItemType;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The stateless rules of every request: presence, format and length of each field. The first offending field fails
 * the request with VALIDATION_ERROR naming it (its protobuf field name). Rules that need other rows (parent in the
 * project, children, versions) are checked by the database in the transaction.
 */
public final class Validation {

  public static final int TITLE_MAX = 500;
  public static final int DESCRIPTION_MAX = 20_000;
  public static final int ID_MAX = 128;
  public static final int STORY_POINTS_MAX = 1_000;
  public static final int PAGE_SIZE_MAX = 1_000;

  private static final Pattern UUID = Pattern.compile(
    "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private Validation() {
  }

  /** A UUID in canonical (lower-case) form; ids are compared as strings everywhere after this. */
  public static String uuid(String field, String value) {
    if (value.isEmpty()) {
      throw WorkstreamException.validation(field, field + " is required");
    }
    if (!UUID.matcher(value).matches()) {
      throw WorkstreamException.validation(field, field + " must be a UUID");
    }
    return value.toLowerCase(Locale.ROOT);
  }

  /** An optional UUID: empty stays empty (none, or "clear" on an update). */
  public static String optionalUuid(String field, String value) {
    return value.isEmpty() ? "" : uuid(field, value);
  }

  public static String title(String value) {
    if (value.isEmpty()) {
      throw WorkstreamException.validation("title", "title is required");
    }
    return text("title", value, TITLE_MAX, false);
  }

  public static String description(String value) {
    return text("description", value, DESCRIPTION_MAX, true);
  }

  /** A user id (a token's subject): free-form but bounded and printable. Empty clears it. */
  public static String assignee(String value) {
    return text("assignee_id", value, ID_MAX, false);
  }

  public static void updateRequest(UpdateWorkItem request) {
    String id = uuid("work_item_id", request.getWorkItemId());
    if (request.getExpectedVersion() < 1) {
      throw WorkstreamException.validation("expected_version", "expected_version is required (versions start at 1)");
    }
    if (request.hasTitle()) {
      title(request.getTitle());
    }
    if (request.hasDescription()) {
      description(request.getDescription());
    }
    if (request.hasStatus()) {
      status(request.getStatus());
    }
    if (request.hasPriority()) {
      priority(request.getPriority());
    }
    if (request.hasAssigneeId()) {
      assignee(request.getAssigneeId());
    }
    if (request.hasSprintId()) {
      optionalUuid("sprint_id", request.getSprintId());
    }
    if (request.hasStoryPoints()) {
      if (request.getClearStoryPoints()) {
        throw WorkstreamException.validation("story_points", "story_points cannot be set and cleared at once");
      }
      storyPoints(request.getStoryPoints());
    }
    if (request.hasParentId() && optionalUuid("parent_id", request.getParentId()).equals(id)) {
      throw WorkstreamException.validation("parent_id", "an item cannot be its own parent");
    }
  }

  public static void deleteRequest(DeleteWorkItem request) {
    uuid("work_item_id", request.getWorkItemId());
    if (request.hasExpectedVersion() && request.getExpectedVersion() < 1) {
      throw WorkstreamException.validation("expected_version", "expected_version starts at 1");
    }
  }

  public static void getRequest(GetWorkItems request) {
    uuid("project_id", request.getProjectId());
    if (request.getLimit() < 0 || request.getLimit() > PAGE_SIZE_MAX) {
      throw WorkstreamException.validation("limit", "limit must be between 1 and " + PAGE_SIZE_MAX + " (0: 500)");
    }
    if (!PageToken.isValid(request.getPageToken())) {
      throw WorkstreamException.validation("page_token", "page_token is not one this server issued");
    }
  }

  static void type(WorkItemType type) {
    if (type == WorkItemType.WORK_ITEM_TYPE_UNSPECIFIED) {
      throw WorkstreamException.validation("type", "type is required");
    }
    if (type == WorkItemType.UNRECOGNIZED) {
      throw WorkstreamException.validation("type", "type is not a known WorkItemType");
    }
  }

  static void status(WorkItemStatus status) {
    if (status == WorkItemStatus.WORK_ITEM_STATUS_UNSPECIFIED || status == WorkItemStatus.UNRECOGNIZED) {
      throw WorkstreamException.validation("status", "status is not a known WorkItemStatus");
    }
  }

  static void priority(WorkItemPriority priority) {
    if (priority == WorkItemPriority.WORK_ITEM_PRIORITY_UNSPECIFIED || priority == WorkItemPriority.UNRECOGNIZED) {
      throw WorkstreamException.validation("priority", "priority is not a known WorkItemPriority");
    }
  }

  static void storyPoints(int points) {
    if (points < 0 || points > STORY_POINTS_MAX) {
      throw WorkstreamException.validation("story_points", "story_points must be between 0 and " + STORY_POINTS_MAX);
    }
  }

  /**
   * Bounded text (in code points) without control characters; multi-line text may hold line breaks and tabs.
   */
  static String text(String field, String value, int max, boolean multiLine) {
    if (value.codePointCount(0, value.length()) > max) {
      throw WorkstreamException.validation(field, field + " is longer than " + max + " characters");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      boolean allowed = multiLine && (c == '\n' || c == '\r' || c == '\t');
      if (Character.isISOControl(c) && !allowed) {
        throw WorkstreamException.validation(field, field + " contains a control character");
      }
    }
    return value;
  }
}
