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

  private final Map<ProjectKey, Set<Subscriptions>> subscribers = new HashMap<>();

  /** Adds a subscriber; true when it is the instance's first one of the project (the instance must follow it). */
  boolean add(String tenantId, String projectId, Subscriptions subscriber) {
    Set<Subscriptions> set =
      subscribers.computeIfAbsent(new ProjectKey(tenantId, projectId), k -> new LinkedHashSet<>());
    boolean first = set.isEmpty();
    set.add(subscriber);
    return first;
  }

  /** Removes a subscriber; true when it was the instance's last one of the project (the instance can unfollow). */
  boolean remove(String tenantId, String projectId, Subscriptions subscriber) {
    ProjectKey key = new ProjectKey(tenantId, projectId);
    Set<Subscriptions> set = subscribers.get(key);
    if (set == null || !set.remove(subscriber)) {
      return false;
    }
    if (set.isEmpty()) {
      subscribers.remove(key);
      return true;
    }
    return false;
  }

  Set<Subscriptions> subscribers(String tenantId, String projectId) {
    return subscribers.getOrDefault(new ProjectKey(tenantId, projectId), Collections.emptySet());
  }

  /** Every (tenant, project) followed, for unfollowing them all when the instance stops. */
  Set<ProjectKey> projects() {
    return Set.copyOf(subscribers.keySet());
  }
}
