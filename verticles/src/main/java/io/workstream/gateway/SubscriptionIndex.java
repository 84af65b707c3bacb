package io.workstream.gateway;

import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** One gateway instance's subscribers per (tenant, project). Confined to the instance's event loop. */
final class SubscriptionIndex {

  record ProjectKey(String tenantId, String projectId) {
  }

  private final Map<ProjectKey, Set<Connection>> subscribers = new HashMap<>();

  /** Adds a subscriber; true when it is the instance's first one of the project (the instance must follow it). */
  boolean add(String tenantId, String projectId, Connection connection) {
    Set<Connection> set = subscribers.computeIfAbsent(new ProjectKey(tenantId, projectId), k -> new LinkedHashSet<>());
    boolean first = set.isEmpty();
    set.add(connection);
    return first;
  }

  /** Removes a subscriber; true when it was the instance's last one of the project (the instance can unfollow). */
  boolean remove(String tenantId, String projectId, Connection connection) {
    ProjectKey key = new ProjectKey(tenantId, projectId);
    Set<Connection> set = subscribers.get(key);
    if (set == null || !set.remove(connection)) {
      return false;
    }
    if (set.isEmpty()) {
      subscribers.remove(key);
      return true;
    }
    return false;
  }

  Set<Connection> subscribers(String tenantId, String projectId) {
    return subscribers.getOrDefault(new ProjectKey(tenantId, projectId), Collections.emptySet());
  }

  /** Every (tenant, project) followed, for unfollowing them all when the instance stops. */
  Set<ProjectKey> projects() {
    return Set.copyOf(subscribers.keySet());
  }
}
